"""BigQuery ``INFORMATION_SCHEMA`` views as DuckDB subqueries over DuckDB's own catalog views.

Supported: ``SCHEMATA`` (project scope: ``region-us.INFORMATION_SCHEMA.SCHEMATA``,
``proj.INFORMATION_SCHEMA.SCHEMATA``), and per dataset (``ds.INFORMATION_SCHEMA.X``,
``proj.ds.INFORMATION_SCHEMA.X``) or per project/region: ``TABLES``, ``COLUMNS``, ``VIEWS``.
Columns are the commonly used subset of BigQuery's; ``data_type`` is derived from the DuckDB
column type (``BIGINT`` → ``INT64``, ``DOUBLE[]`` → ``ARRAY<FLOAT64>``, …).
"""

from __future__ import annotations

from sqlglot import exp, parse_one

from emulator.bigquery.errors import InvalidQuery

#: Schemas of a catalog that are not BigQuery datasets.
_HIDDEN_SCHEMAS = ("main", "information_schema", "pg_catalog", "_wallaroo_emulator_meta")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _bq_type_sql(column: str) -> str:
    """A DuckDB expression turning a DuckDB type name into BigQuery's spelling."""
    steps = [
        (r"TIMESTAMP WITH TIME ZONE", "TIMESTAMP_TZ__"),
        (r"\bTIMESTAMP\b", "DATETIME"),
        (r"TIMESTAMP_TZ__", "TIMESTAMP"),
        (r"\b(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT)\b", "INT64"),
        (r"\b(DOUBLE|FLOAT|REAL)\b", "FLOAT64"),
        (r"DECIMAL\(\d+,\d+\)", "NUMERIC"),
        (r"\bVARCHAR\b", "STRING"),
        (r"\bBLOB\b", "BYTES"),
        (r"\bBOOLEAN\b", "BOOL"),
        (r'"', ""),
    ]
    expr = column
    for pattern, repl in steps:
        expr = f"regexp_replace({expr}, {_lit(pattern)}, {_lit(repl)}, 'g')"
    struct_from, struct_to = _lit(r"STRUCT\(([^()]*)\)"), _lit(r"STRUCT<\1>")
    array_from, array_to = _lit(r"(STRUCT<[^<>]*>|[A-Z0-9_]+)\[\]"), _lit(r"ARRAY<\1>")
    for _ in range(3):  # STRUCT(a INT64) → STRUCT<a INT64>, innermost first
        expr = f"regexp_replace({expr}, {struct_from}, {struct_to}, 'g')"
        expr = f"regexp_replace({expr}, {array_from}, {array_to}, 'g')"
    return expr


def _scope_filter(project: str, dataset: str | None, catalog_col: str, schema_col: str) -> str:
    cond = f"{catalog_col} = {_lit(project)}"
    if dataset is not None:
        cond += f" AND {schema_col} = {_lit(dataset)}"
    hidden = ", ".join(_lit(s) for s in _HIDDEN_SCHEMAS)
    return cond + f" AND {schema_col} NOT IN ({hidden})"


def view_sql(view: str, project: str, dataset: str | None) -> str:
    """DuckDB SQL producing BigQuery's ``INFORMATION_SCHEMA.<view>`` rows for the scope."""
    view = view.upper()
    if view == "SCHEMATA":
        where = _scope_filter(project, None, "catalog_name", "schema_name")
        return (f"SELECT catalog_name, schema_name, 'US' AS location, CAST(NULL AS TIMESTAMPTZ) AS creation_time "
                f"FROM information_schema.schemata WHERE {where}")
    if view == "TABLES":
        where = _scope_filter(project, dataset, "table_catalog", "table_schema")
        return ("SELECT table_catalog, table_schema, table_name, table_type, 'YES' AS is_insertable_into "
                f"FROM information_schema.tables WHERE {where}")
    if view == "COLUMNS":
        where = _scope_filter(project, dataset, "table_catalog", "table_schema")
        return ("SELECT table_catalog, table_schema, table_name, column_name, "
                "CAST(ordinal_position AS BIGINT) AS ordinal_position, "
                "CASE WHEN data_type LIKE '%[]' THEN 'NO' ELSE is_nullable END AS is_nullable, "
                f"{_bq_type_sql('data_type')} AS data_type, 'NO' AS is_hidden, 'NO' AS is_partitioning_column "
                f"FROM information_schema.columns WHERE {where} AND column_name <> '__no_columns'")
    if view == "VIEWS":
        where = _scope_filter(project, dataset, "database_name", "schema_name")
        return ("SELECT database_name AS table_catalog, schema_name AS table_schema, view_name AS table_name, "
                f"sql AS view_definition FROM duckdb_views() WHERE NOT internal AND {where}")
    raise InvalidQuery(f"INFORMATION_SCHEMA.{view} is not supported by wallaroo-emulator "
                       "(supported: SCHEMATA, TABLES, COLUMNS, VIEWS)")


def match(table: exp.Table, default_project: str, default_dataset: str | None) -> exp.Expression | None:
    """The replacement subquery if ``table`` names an INFORMATION_SCHEMA view, else None."""
    name = table.name
    parts = [p.name for p in (table.args.get("catalog"), table.args.get("db")) if isinstance(p, exp.Expression)]
    upper = name.upper()
    if upper.startswith("INFORMATION_SCHEMA."):
        view = upper.split(".", 1)[1]
    elif parts and parts[-1].upper() == "INFORMATION_SCHEMA":
        view = upper
        parts = parts[:-1]
    else:
        return None
    # flatten dotted identifiers such as `my-proj.ds`
    flat: list[str] = []
    for part in parts:
        flat.extend(part.split("."))
    project, dataset = default_project, None
    if view == "SCHEMATA":
        if flat and not flat[-1].lower().startswith("region-"):
            project = flat[-1]
        elif len(flat) >= 2:
            project = flat[-2]
    else:
        if len(flat) == 2:
            project, dataset = flat
            if dataset.lower().startswith("region-"):
                dataset = None
        elif len(flat) == 1:
            dataset = None if flat[0].lower().startswith("region-") else flat[0]
        else:
            dataset = default_dataset
    subquery = parse_one(f"({view_sql(view, project, dataset)})", read="duckdb")
    alias = table.alias or view.lower()
    return exp.Subquery(this=subquery.this if isinstance(subquery, exp.Paren | exp.Subquery) else subquery,
                        alias=exp.TableAlias(this=exp.to_identifier(alias)))
