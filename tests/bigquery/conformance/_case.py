"""The shape of a conformance case (plain data; see test_conformance.py for how they run)."""

from __future__ import annotations

from typing import Any


def case(feature: str, source: str, sql: str, rows: list[tuple] | None = None, *,
         types: list[str] | None = None, ordered: bool = True, setup: tuple[str, ...] | list[str] = (),
         error: str | None = None, message: str | None = None, xfail: str | None = None,
         params: list[tuple] | None = None, affected: int | None = None,
         schema: list[tuple] | None = None, schema_of: str | None = None, approx: bool = False,
         dataset: str | None = None, name: str | None = None, columns: list[str] | None = None
         ) -> dict[str, Any]:
    """One case.

    feature  row of the support table (docs/sql-support.md) the case counts towards
    source   the BigQuery documentation page the expected result comes from
    sql      GoogleSQL run with ``client.query(sql).result()``
    rows     expected rows (tuples of the Python values the client returns); None = not checked
    types    expected result column types (BigQuery legacy names, e.g. INTEGER, FLOAT, RECORD)
    ordered  compare rows in order (False: as a multiset)
    setup    statements run first (each through the client)
    error    expected error reason (invalidQuery, notFound, duplicate, invalid)
    message  expected substring of the error message
    xfail    why the emulator cannot do this yet (runs as xfail(strict=True))
    params   query parameters: (name or None, type, value) triples
    affected expected num_dml_affected_rows of the job
    schema   expected [(name, type, mode)] of the table ``schema_of`` after the statement
    approx   compare floats with a relative tolerance of 1e-9
    dataset  default dataset of the query job
    columns  expected result column names
    """
    return {"feature": feature, "source": source, "sql": sql, "rows": rows, "types": types, "ordered": ordered,
            "setup": list(setup), "error": error, "message": message, "xfail": xfail, "params": params,
            "affected": affected, "schema": schema, "schema_of": schema_of, "approx": approx, "dataset": dataset,
            "name": name, "columns": columns}
