"""GoogleSQL types for the translator: the catalog's schemas fed to sqlglot's type annotation.

:func:`emulator.bigquery.sql.translate` takes an optional ``catalog`` lookup
``(project, dataset, table) -> REST schema fields | None``. For every statement the tables it reads
are looked up (:class:`Catalog`), their schemas become a sqlglot ``MappingSchema`` and
:func:`annotate` runs sqlglot's ``qualify`` + ``annotate_types`` (BigQuery dialect) so every
expression node of the statement carries its BigQuery type (``node.type``, a sqlglot
``DataType``; unknown types are ``UNKNOWN``). Query parameters are typed by their declared
``parameterType``, CTE and subquery columns by sqlglot's scope analysis.

``qualify`` rewrites the tree it works on (aliases, qualified columns), which would change the
SQL we generate; annotation therefore runs on a copy and the types are carried back to the
original nodes (nodes ``qualify`` rebuilt keep no type: the rules then treat their type as
unknown, never as wrong).

The translation cache must notice a changed table: :class:`Catalog` records every schema it
handed out (``dependencies``) and :func:`emulator.bigquery.sql.translate` re-translates when a
lookup answers differently.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from sqlglot import exp

__all__ = ["CatalogLookup", "Catalog", "annotate", "bq_name", "known", "is_kind", "field_type_sql",
           "parameter_type"]

#: ``(project, dataset, table) -> schema fields`` (``{"name","type","mode","fields"}``) or None.
CatalogLookup = Callable[[str, str, str], "list[dict] | None"]

T = exp.DataType.Type

_REST_TO_SQL = {
    "INTEGER": "INT64", "INT64": "INT64", "FLOAT": "FLOAT64", "FLOAT64": "FLOAT64", "NUMERIC": "NUMERIC",
    "DECIMAL": "NUMERIC", "BIGNUMERIC": "BIGNUMERIC", "BIGDECIMAL": "BIGNUMERIC", "BOOLEAN": "BOOL",
    "BOOL": "BOOL", "STRING": "STRING", "BYTES": "BYTES", "DATE": "DATE", "TIME": "TIME",
    "DATETIME": "DATETIME", "TIMESTAMP": "TIMESTAMP", "JSON": "JSON", "GEOGRAPHY": "GEOGRAPHY",
    "INTERVAL": "INTERVAL",
}


def _quote_field(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def field_type_sql(field: dict[str, Any]) -> str:
    """GoogleSQL spelling of a REST schema field's type (``ARRAY<STRUCT<a INT64>>``, ``RANGE<DATE>``…)."""
    kind = str(field.get("type") or "STRING").upper()
    if kind in ("RECORD", "STRUCT"):
        inner = ", ".join(f"{_quote_field(str(f.get('name')))} {field_type_sql(f)}" for f in field.get("fields") or [])
        base = f"STRUCT<{inner}>"
    elif kind == "RANGE":
        element = str((field.get("rangeElementType") or {}).get("type") or "DATE").upper()
        base = f"RANGE<{_REST_TO_SQL.get(element, element)}>"
    else:
        base = _REST_TO_SQL.get(kind, "UNKNOWN")
    return f"ARRAY<{base}>" if str(field.get("mode") or "").upper() == "REPEATED" else base


def parameter_type(ptype: dict[str, Any]) -> str:
    """GoogleSQL spelling of a REST ``parameterType``."""
    kind = str(ptype.get("type") or "STRING").upper()
    if kind == "ARRAY":
        return f"ARRAY<{parameter_type(ptype.get('arrayType') or {})}>"
    if kind in ("STRUCT", "RECORD"):
        members = []
        for i, sub in enumerate(ptype.get("structTypes") or []):
            name = sub.get("name") or f"_field_{i + 1}"
            members.append(f"{_quote_field(name)} {parameter_type(sub.get('type') or {})}")
        return f"STRUCT<{', '.join(members)}>"
    if kind == "RANGE":
        return f"RANGE<{parameter_type(ptype.get('rangeElementType') or {'type': 'DATE'})}>"
    return _REST_TO_SQL.get(kind, "UNKNOWN")


def _build(type_sql: str) -> exp.DataType:
    try:
        return exp.DataType.build(type_sql, dialect="bigquery")
    except Exception:  # noqa: BLE001 - an exotic type sqlglot cannot spell: unknown to us too
        return exp.DataType.build("UNKNOWN")


class Catalog:
    """The schemas one translation reads from the catalog lookup, and the answers it depended on."""

    def __init__(self, lookup: CatalogLookup | None) -> None:
        self.lookup = lookup
        #: (project, dataset, table) -> the schema the lookup answered (None: unknown table)
        self.dependencies: dict[tuple[str, str, str], list[dict] | None] = {}
        #: tables created by an earlier statement of the same script: their declared columns
        self.local: dict[tuple[str, str, str], list[dict]] = {}

    def schema(self, project: str, dataset: str, table: str) -> list[dict] | None:
        key = (project, dataset, table)
        if key in self.local:
            return self.local[key]
        if key in self.dependencies:
            return self.dependencies[key]
        fields = None
        if self.lookup is not None:
            try:
                fields = self.lookup(project, dataset, table)
                # a copy: the catalog may change the schema in place later (ALTER TABLE)
                fields = copy.deepcopy(fields) if fields is not None else None
            except Exception:  # noqa: BLE001 - a failing lookup means "unknown", never a failed query
                fields = None
        self.dependencies[key] = fields
        return fields

    def mapping(self, refs: Iterable[Any]) -> dict[str, Any]:
        """``{project: {dataset: {table: {column: type}}}}`` for the known tables among ``refs``."""
        out: dict[str, Any] = {}
        for ref in refs:
            if ref.table is None:
                continue
            fields = self.schema(ref.project, ref.dataset, ref.table)
            if not fields:
                continue
            columns = {str(f.get("name")): field_type_sql(f) for f in fields if f.get("name")}
            out.setdefault(ref.project, {}).setdefault(ref.dataset, {})[ref.table] = columns
        return out


def annotate(tree: exp.Expression, mapping: dict[str, Any], named: dict[str, dict], positional: list[dict]) -> None:
    """Set ``node.type`` (GoogleSQL semantics) on the nodes of ``tree``; see the module docstring."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.schema import MappingSchema

    work = tree.copy()
    originals = {id(c): o for c, o in zip(work.dfs(), tree.dfs())}
    schema = MappingSchema(mapping, dialect="bigquery") if mapping else MappingSchema(dialect="bigquery")
    # qualify (the costly half) only where it can resolve something: tables with known schemas, or
    # derived tables / UNNEST / CTEs whose columns it types
    if isinstance(work, exp.Query | exp.DML) and (mapping or work.find(exp.Unnest, exp.CTE, exp.Subquery) is not None):
        try:
            qualify(work, schema=schema, dialect="bigquery", validate_qualify_columns=False,
                    quote_identifiers=False, identify=False, expand_stars=False)
        except Exception:  # noqa: BLE001 - sqlglot cannot qualify every GoogleSQL shape: types stay partial
            pass
    _type_parameters(work, originals, named, positional)
    try:
        annotate_types(work, schema=schema, dialect="bigquery", overwrite_types=False)
    except Exception:  # noqa: BLE001 - as above: an annotation failure leaves types unknown
        return
    for node in work.dfs():
        original = originals.get(id(node))
        if original is not None and node.type is not None:
            original.type = node.type


def _type_parameters(work: exp.Expression, originals: dict[int, exp.Expression], named: dict[str, dict],
                     positional: list[dict]) -> None:
    for node in work.find_all(exp.Parameter, exp.Placeholder):
        ptype: dict | None = None
        if isinstance(node, exp.Parameter):
            ptype = named.get(node.name.lower())
        else:
            original = originals.get(id(node))
            position = (original.meta.get("position") if original is not None and original.meta else None)
            if position is not None and position < len(positional):
                ptype = positional[position]
        if ptype is not None:
            node.type = _build(parameter_type(ptype))


# ------------------------------------------------------------------------------------------
# reading the types
# ------------------------------------------------------------------------------------------
def known(node: exp.Expression | None) -> exp.DataType | None:
    """The node's GoogleSQL type when annotation found one (casts our rules wrote count too)."""
    if node is None:
        return None
    dtype = node.type
    if dtype is not None and dtype.this not in (T.UNKNOWN, T.NULL):
        return dtype
    if isinstance(node, exp.Cast) and isinstance(node.to, exp.DataType) and node.to.this != T.UNKNOWN:
        return node.to
    if isinstance(node, exp.Paren):
        return known(node.this)
    return None


def _types(*names: str) -> frozenset:
    """The sqlglot type members of those names this sqlglot version has."""
    return frozenset(getattr(T, n) for n in names if hasattr(T, n))


_GROUPS: dict[str, frozenset] = {
    "INT64": _types("BIGINT", "INT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINT"),
    "FLOAT64": _types("DOUBLE", "FLOAT"),
    "NUMERIC": _types("DECIMAL"),
    "BIGNUMERIC": _types("BIGDECIMAL"),
    "STRING": _types("TEXT", "VARCHAR", "CHAR", "NCHAR", "NVARCHAR"),
    "BYTES": _types("BINARY", "VARBINARY", "BLOB"),
    "BOOL": _types("BOOLEAN"),
    "DATE": _types("DATE"),
    "TIME": _types("TIME"),
    "DATETIME": _types("TIMESTAMP", "DATETIME"),
    "TIMESTAMP": _types("TIMESTAMPTZ", "TIMESTAMPLTZ"),
    "JSON": _types("JSON"),
    "GEOGRAPHY": _types("GEOGRAPHY"),
    "INTERVAL": _types("INTERVAL"),
    "ARRAY": _types("ARRAY"),
    "STRUCT": _types("STRUCT"),
    "RANGE": _types("RANGE"),
}
_NAME_OF = {t: name for name, group in _GROUPS.items() for t in group}


def is_kind(node_or_type: exp.Expression | exp.DataType | None, *names: str) -> bool:
    """True when the known GoogleSQL type is one of ``names`` (``"INT64"``, ``"NUMERIC"``…)."""
    dtype = node_or_type if isinstance(node_or_type, exp.DataType) else known(node_or_type)
    if dtype is None:
        return False
    return _NAME_OF.get(dtype.this) in names


def kind_name(dtype: exp.DataType | None) -> str | None:
    """The GoogleSQL type family of ``dtype`` (``"INT64"``, ``"ARRAY"``…) or None."""
    if dtype is None:
        return None
    return _NAME_OF.get(dtype.this)


def bq_name(dtype: exp.DataType) -> str:
    """GoogleSQL spelling of a type as error messages print it (``INT64``, ``ARRAY<STRING>``…)."""
    if dtype.this == T.ARRAY:
        inner = dtype.expressions[0] if dtype.expressions else None
        return f"ARRAY<{bq_name(inner) if isinstance(inner, exp.DataType) else 'INT64'}>"
    if dtype.this == T.STRUCT:
        parts = []
        for member in dtype.expressions:
            if isinstance(member, exp.ColumnDef) and isinstance(member.args.get("kind"), exp.DataType):
                parts.append(f"{member.name} {bq_name(member.args['kind'])}")
            elif isinstance(member, exp.DataType):
                parts.append(bq_name(member))
        return f"STRUCT<{', '.join(parts)}>"
    name = _NAME_OF.get(dtype.this)
    if name is not None and name not in ("ARRAY", "STRUCT"):
        return name
    return dtype.sql("bigquery")


# ------------------------------------------------------------------------------------------
# result columns DuckDB cannot type
# ------------------------------------------------------------------------------------------
#: GoogleSQL types stored as a DuckDB type that means something else (GEOGRAPHY is VARCHAR WKT text)
_HINTED = {T.GEOGRAPHY: "GEOGRAPHY", T.BIGDECIMAL: "BIGNUMERIC"}
#: functions returning GEOGRAPHY (sqlglot leaves them untyped)
_GEOGRAPHY_FUNCTIONS = frozenset({"ST_GEOGPOINT", "ST_GEOGFROMTEXT", "ST_GEOGFROMGEOJSON", "ST_GEOGFROMWKB",
                                  "ST_GEOGFROM", "ST_CENTROID", "ST_MAKELINE"})


def output_hints(tree: exp.Expression, tables: list[list[dict] | None]) -> dict[str, str]:
    """``{column name (lower case): REST type}`` for the result columns of a query whose GoogleSQL type
    DuckDB's result type does not tell (GEOGRAPHY comes back as VARCHAR). ``tables`` are the schemas of
    the tables the query reads (a ``*`` takes their columns). Call after :func:`annotate`."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Subquery):
        select = select.unnest()
    if not isinstance(select, exp.Select):
        return {}
    hints: dict[str, str] = {}
    for projection in select.expressions:
        star = projection if isinstance(projection, exp.Star) else (
            projection.this if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star) else None)
        if star is not None:
            excluded = {e.name.lower() for e in star.args.get("except_") or star.args.get("except") or []}
            for fields in tables:
                for f in fields or []:
                    name = str(f.get("name") or "").lower()
                    kind = str(f.get("type") or "").upper()
                    if name and name not in excluded and f.get("mode") != "REPEATED":
                        if kind in _HINTED.values():
                            hints[name] = kind
                        elif _pico_field(f):
                            hints[name] = PICO_TIMESTAMP
            continue
        value = projection.this if isinstance(projection, exp.Alias) else projection
        dtype = known(value)
        if not projection.alias_or_name:
            continue
        if isinstance(value, exp.Column) and not isinstance(value.this, exp.Star) and any(
                _pico_field(f) and str(f.get("name")).lower() == value.name.lower()
                for fields in tables for f in fields or []):
            hints[projection.alias_or_name.lower()] = PICO_TIMESTAMP
            continue
        if dtype is not None and dtype.this in _HINTED:
            hints[projection.alias_or_name.lower()] = _HINTED[dtype.this]
        elif isinstance(value, exp.Anonymous) and value.name.upper() in _GEOGRAPHY_FUNCTIONS:
            hints[projection.alias_or_name.lower()] = "GEOGRAPHY"
    return hints


#: the hint of a picosecond TIMESTAMP column selected as it is (stored as its text: DuckDB says VARCHAR)
PICO_TIMESTAMP = "TIMESTAMP(12)"


def _pico_field(field: dict[str, Any]) -> bool:
    return str(field.get("type") or "").upper() == "TIMESTAMP" and str(field.get("timestampPrecision")) == "12"
