"""Table data: reading rows (tabledata.list, copies), writing Arrow data (loads, insertAll, query
destinations) and encoding rows into BigQuery's JSON ``f``/``v`` cells.

Every write is one DuckDB transaction: a failed load leaves the stored rows exactly as they were.
Columns are matched by name (case-insensitively); table columns missing from the data are NULL
(empty for REPEATED). Rows are read back in insertion order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.bigquery import types as bqtypes
from emulator.bigquery.catalog import Catalog, TableMeta
from emulator.bigquery.engine import (
    SCRATCH_TABLE,
    Engine,
    is_duckdb_error,
    load_error_message,
    qualified,
)
from emulator.bigquery.errors import BigQueryError, Duplicate, Invalid, table_not_found
from emulator.bigquery.types import quote_ident
from emulator.bigquery.wire import SMALL_RESULT_CELLS, encode_rows_python, python_encodable, row_encoder_sql

if TYPE_CHECKING:
    import pyarrow as pa

#: Rows wider than this are encoded in Python: DuckDB takes seconds to plan an encoder of thousands
#: of cells (10,000 columns, BigQuery's maximum, about a minute), Python a few microseconds per cell.
WIDE_SCHEMA_COLUMNS = 256


class TableData:
    """Rows of the catalog's tables."""

    def __init__(self, engine: Engine, catalog: Catalog) -> None:
        self.engine = engine
        self.catalog = catalog

    def row_count(self, project: str, dataset: str, table: str) -> int:
        meta = self.catalog.require_table(project, dataset, table)
        if meta.kind == "VIEW":
            return 0
        return int(self.engine.exec(f"SELECT count(*) FROM {qualified(project, dataset, table)}")[0][0])

    def read_rows(self, project: str, dataset: str, table: str, *, start: int = 0, max_results: int | None = None,
                  selected_fields: list[str] | None = None) -> tuple[Any, list[dict[str, Any]], int]:
        """(arrow rows, schema of those rows, total rows) of a table, in insertion order."""
        meta = self.catalog.require_table(project, dataset, table)
        if meta.kind == "VIEW":
            raise Invalid(f"Cannot list a table of type VIEW: {project}:{dataset}.{table}")
        schema = meta.schema
        if selected_fields:
            wanted = [name.strip().split(".")[0] for name in selected_fields if name.strip()]
            schema = [f for f in schema if f["name"] in wanted]
        cols = ", ".join(quote_ident(f["name"]) for f in schema) or "*"
        target = qualified(project, dataset, table)
        with self.engine.lock:
            total = int(self.engine.exec(f"SELECT count(*) FROM {target}")[0][0])
            limit = "" if max_results is None else f" LIMIT {int(max_results)}"
            arrow = self.engine.con.sql(
                f"SELECT {cols} FROM {target} ORDER BY rowid{limit} OFFSET {int(start)}").to_arrow_table()
        return arrow, schema, total

    def encode_rows(self, arrow: Any, schema: list[dict[str, Any]], *, int64_timestamps: bool = True) -> str:
        """The JSON text of a ``rows`` array (f/v cells) for an Arrow table following ``schema``."""
        if arrow.num_rows == 0:
            return "[]"
        small = arrow.num_rows * max(len(schema), 1) <= SMALL_RESULT_CELLS
        if (small or len(schema) > WIDE_SCHEMA_COLUMNS) and python_encodable(schema):
            return encode_rows_python(arrow.to_pylist(), schema, int64_timestamps)
        return self.encode_rows_in_duckdb(arrow, schema, int64_timestamps=int64_timestamps)

    def encode_rows_in_duckdb(self, arrow: Any, schema: list[dict[str, Any]], *, int64_timestamps: bool = True) -> str:
        """The same JSON text, always encoded inside DuckDB (the path large results take)."""
        encoded = self.engine.encode_with_sql(arrow, lambda name: row_encoder_sql(schema, name, int64_timestamps))
        return "[" + ",".join(encoded) + "]"

    def append_rows(self, meta: TableMeta, rows: list[dict[str, Any]]) -> int:
        """Append already-converted Python rows (insertAll) to a table."""
        import pyarrow as pa

        schema = bqtypes.arrow_schema(meta.schema)
        try:
            arrow = pa.Table.from_pylist(rows, schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise Invalid(f"Error while reading data, error message: {exc}") from None
        return self.load_arrow(meta.project, meta.dataset, meta.table, arrow, write_disposition="WRITE_APPEND",
                               create_disposition="CREATE_NEVER")

    def load_arrow(self, project: str, dataset: str, table: str, arrow: pa.Table, *,
                   write_disposition: str = "WRITE_APPEND", create_disposition: str = "CREATE_IF_NEEDED",
                   schema: list[dict[str, Any]] | None = None) -> int:
        """Store an Arrow table into a table, creating it if allowed; returns rows written."""
        with self.engine.lock:
            meta = self.catalog.table(project, dataset, table)
            if meta is None:
                if create_disposition == "CREATE_NEVER":
                    self.catalog.require_dataset(project, dataset)
                    raise table_not_found(project, dataset, table)
                fields = bqtypes.normalise_schema(schema) if schema else bqtypes.schema_from_arrow(arrow.schema)
                meta = self.catalog.create_table(project, dataset, table, fields)
            elif meta.kind == "VIEW":
                raise Invalid(f"Cannot write to a view: {project}:{dataset}.{table}")
            arrow = _decimal256_as_text(_geography_as_text(meta.schema, arrow))
            target = qualified(project, dataset, table)
            projections = _projections(meta, arrow.column_names)
            with self.engine.scratch_cursor(arrow) as cur:
                cur.execute("BEGIN TRANSACTION")
                try:
                    if write_disposition == "WRITE_TRUNCATE":
                        cur.execute(f"DELETE FROM {target}")
                    elif write_disposition == "WRITE_EMPTY":
                        if cur.execute(f"SELECT count(*) FROM {target}").fetchone()[0]:
                            raise Duplicate(f"Already Exists: Table {project}:{dataset}.{table}")
                    if arrow.num_rows:
                        cur.execute(f"INSERT INTO {target} SELECT {', '.join(projections)} FROM {SCRATCH_TABLE}")
                    cur.execute("COMMIT")
                except BaseException as exc:
                    cur.execute("ROLLBACK")
                    if isinstance(exc, BigQueryError):
                        raise
                    if is_duckdb_error(exc):
                        raise Invalid(load_error_message(exc)) from None
                    raise
            self.catalog.touch(meta.key)
            return arrow.num_rows


def _decimal256_as_text(arrow: Any) -> Any:
    """Arrow ``decimal256`` columns (BIGNUMERIC from Parquet, DataFrames) as their decimal text: DuckDB
    reads no decimal wider than 38 digits; a BIGNUMERIC column stores the text, a NUMERIC one casts it."""
    import pyarrow as pa

    from emulator.bigquery import bignumeric

    for index, field in enumerate(arrow.schema):
        if pa.types.is_decimal256(field.type):
            texts = [None if v is None else bignumeric.text(v) for v in arrow.column(index).to_pylist()]
            arrow = arrow.set_column(index, field.name, pa.array(texts, type=pa.string()))
    return arrow


def _geography_as_text(schema: list[dict[str, Any]], arrow: Any) -> Any:
    """Binary data for a GEOGRAPHY column is WKB (BigQuery loads it so): stored as WKT text."""
    import pyarrow as pa

    from emulator.bigquery.sql_geography import wkb_to_wkt

    by_lower = {name.lower(): i for i, name in enumerate(arrow.column_names)}
    for f in schema:
        index = by_lower.get(f["name"].lower())
        if f["type"] != "GEOGRAPHY" or f["mode"] == "REPEATED" or index is None:
            continue
        column = arrow.column(index)
        if not (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
            continue
        try:
            texts = [None if v is None else wkb_to_wkt(v) for v in column.to_pylist()]
        except ValueError as exc:
            raise Invalid(f"Error while reading data, error message: Invalid geography value for column "
                          f"{f['name']}: {exc}") from None
        arrow = arrow.set_column(index, arrow.field(index).name, pa.array(texts, type=pa.string()))
    return arrow


def _projections(meta: TableMeta, column_names: list[str]) -> list[str]:
    """One cast expression per table column, reading the data's column of the same name (or a default)."""
    by_lower = {name.lower(): name for name in column_names}
    known = {f["name"].lower() for f in meta.schema}
    for name in column_names:
        if name.lower() not in known:
            raise Invalid(f"Provided Schema does not match Table {meta.project}:{meta.dataset}.{meta.table}. "
                          f"Cannot add fields (field: {name})")
    projections = []
    for f in meta.schema:
        source = by_lower.get(f["name"].lower())
        target_type = bqtypes.field_duckdb_type(f)
        if source is None:
            if f["mode"] == "REQUIRED":
                raise Invalid(f"Required field {f['name']} cannot be null")
            default = "[]" if f["mode"] == "REPEATED" else "NULL"
            projections.append(f"CAST({default} AS {target_type})")
        else:
            expr = quote_ident(source)
            if f["mode"] == "REPEATED":
                expr = f"coalesce({expr}, [])"
            projections.append(f"CAST({expr} AS {target_type})")
    return projections
