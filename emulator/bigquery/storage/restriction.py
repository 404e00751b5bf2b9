"""``read_options.row_restriction``: a GoogleSQL boolean expression filtering a read session.

The expression is translated by the project's own GoogleSQL translator (as the WHERE clause of
a query over a placeholder table) and evaluated by DuckDB over the session's snapshot, so it
means what it means in a query (functions, casts, ``IN UNNEST``, struct fields, the frozen
``CURRENT_TIMESTAMP()``). Like the service, it accepts an expression over the table's columns
only: no subqueries, no other tables, no aggregates, nothing after it. Anything the translator
or DuckDB refuses is the service's ``INVALID_ARGUMENT`` "Row filter for table … is invalid".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from emulator.bigquery.types import quote_ident

_PLACEHOLDER_DATASET = "__wallaroo_storage_read"
_PLACEHOLDER_TABLE = "__rows"
_REGISTERED = "__wallaroo_storage_rows"


class InvalidRestriction(ValueError):
    """The restriction is not a valid boolean expression over the table's columns."""


def duckdb_filter(restriction: str, *, project: str, now: datetime, fields: list[dict[str, Any]] | None = None) -> str:
    """A DuckDB ``SELECT * FROM <registered rows> WHERE …`` for ``restriction``; ``fields`` (the rows'
    BigQuery schema) lets the translator type the columns as it does in queries."""
    import sqlglot
    from sqlglot import exp

    from emulator.bigquery.errors import BigQueryError
    from emulator.bigquery.sql import translate

    text = restriction.strip()
    try:
        parsed = sqlglot.parse(f"SELECT 1 FROM t WHERE {text}", read="bigquery")
    except sqlglot.errors.SqlglotError as exc:
        raise InvalidRestriction(str(exc).split("\n")[0]) from None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Select):
        raise InvalidRestriction("the restriction must be a single boolean expression")
    where = parsed[0].args.get("where")
    select = parsed[0]
    extra = set(select.args) - {"expressions", "from", "where", "from_"}
    if where is None or any(select.args.get(key) for key in extra):
        raise InvalidRestriction("the restriction must be a single boolean expression")
    if where.find(exp.Select, exp.Subquery, exp.Table, exp.AggFunc, exp.Window) is not None:
        raise InvalidRestriction("subqueries, tables, aggregates and window functions are not allowed")
    query = f"SELECT * FROM `{_PLACEHOLDER_DATASET}.{_PLACEHOLDER_TABLE}` WHERE {text}"
    try:
        def lookup(p: str, d: str, t: str) -> list[dict[str, Any]] | None:
            return fields if (p, d, t) == (project, _PLACEHOLDER_DATASET, _PLACEHOLDER_TABLE) else None

        statements = translate(query, project=project, dataset=None, now=now,
                               catalog=lookup if fields is not None else None)
    except BigQueryError as exc:
        raise InvalidRestriction(exc.message) from None
    if len(statements) != 1 or statements[0].kind != "SELECT":
        raise InvalidRestriction("the restriction must be a single boolean expression")
    sql = statements[0].sql
    placeholder = f"{quote_ident(project)}.{quote_ident(_PLACEHOLDER_DATASET)}.{quote_ident(_PLACEHOLDER_TABLE)}"
    if sql.count(placeholder) != 1:
        raise InvalidRestriction("the restriction could not be translated")
    return sql.replace(placeholder, _REGISTERED)


def apply(con: Any, table: pa.Table, sql: str) -> pa.Table:
    """Rows of ``table`` that ``sql`` (from :func:`duckdb_filter`) keeps, in their order.

    ``con`` is a DuckDB cursor of the backend's locked-down database (time zone UTC).
    """
    import duckdb

    con.register(_REGISTERED, table)
    try:
        result = con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise InvalidRestriction(str(exc).split("\n")[0]) from None
    finally:
        con.unregister(_REGISTERED)
    return result
