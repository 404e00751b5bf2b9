"""BigQuery's logical data sizes (cloud.google.com/bigquery/pricing#data, "Data size calculation").

A dry run reports ``totalBytesProcessed`` as an estimate of what the query would read. The emulator
estimates it as the logical size of every column of the tables the query reads (BigQuery counts only
the columns a query names: the estimate is an upper bound, never 0 for a non-empty table). Sizes
per value: INT64, FLOAT64, DATE, TIME, DATETIME, TIMESTAMP 8 bytes; NUMERIC 16; BIGNUMERIC 32;
BOOL 1; INTERVAL 16; STRING and BYTES 2 + their length in bytes; JSON the length of its text;
GEOGRAPHY 16 + 24 per vertex; NULL 0. RECORD and REPEATED values count the length of their text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.bigquery.engine import qualified
from emulator.bigquery.types import quote_ident

if TYPE_CHECKING:
    from emulator.bigquery.catalog import TableMeta
    from emulator.bigquery.engine import Engine

_FIXED = {"INTEGER": 8, "FLOAT": 8, "DATE": 8, "TIME": 8, "DATETIME": 8, "TIMESTAMP": 8, "NUMERIC": 16,
          "BIGNUMERIC": 32, "BOOLEAN": 1, "INTERVAL": 16}


def _size_sql(field: dict) -> str:
    col = quote_ident(field["name"])
    kind = field["type"]
    if field.get("mode") == "REPEATED" or kind in ("RECORD", "RANGE"):
        return f"coalesce(strlen(CAST({col} AS VARCHAR)), 0)"
    if kind in _FIXED:
        return f"CASE WHEN {col} IS NULL THEN 0 ELSE {_FIXED[kind]} END"
    if kind == "BYTES":
        return f"coalesce(octet_length({col}) + 2, 0)"
    if kind == "GEOGRAPHY":
        return f"coalesce(16 + 24 * (strlen({col}) - strlen(replace({col}, ',', '')) + 1), 0)"
    if kind == "JSON":
        return f"coalesce(strlen(CAST({col} AS VARCHAR)), 0)"
    return f"coalesce(strlen(CAST({col} AS VARCHAR)) + 2, 0)"


def table_bytes(engine: Engine, meta: TableMeta) -> int:
    """The logical size in bytes of a table's rows."""
    # list_sum over one list, not a + b + …: 10,000 columns would nest past DuckDB's depth limit
    sizes = "list_sum([" + ", ".join(_size_sql(f) for f in meta.schema) + "])"
    target = qualified(meta.project, meta.dataset, meta.table)
    with engine.lock:
        (total,) = engine.exec(f"SELECT coalesce(sum({sizes}), 0) FROM {target}")[0]
    return int(total)
