"""The BigQuery backend: catalog, tables, jobs and query execution on DuckDB.

Plain Python API (no HTTP): the REST adapter (``rest.py``) and tests call it directly.

Catalog mapping: a BigQuery project is a DuckDB catalog ATTACHed under the project's own name,
a dataset is a schema, a table is a table. Each request runs on its own cursor after
``USE "project"`` (or ``USE "project"."dataset"`` for a default dataset), so ``table``,
``dataset.table`` and ``project.dataset.table`` resolve natively. The DuckDB database is
created lazily on the first BigQuery call (in memory, or files next to ``database``), so an
emulator that never touches BigQuery costs nothing here.

BigQuery schemas (modes, JSON vs STRING, REQUIRED) live in our metadata beside the data.
Every write request runs in one DuckDB transaction: a failed insert, load or DML leaves the
stored rows exactly as they were. All timestamps come from the emulator's clock.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.bigquery import types as bqtypes
from emulator.bigquery.errors import (
    BigQueryError,
    Duplicate,
    Invalid,
    InvalidQuery,
    NotFound,
    dataset_not_found,
    table_not_found,
)
from emulator.bigquery.types import quote_ident
from emulator.bigquery.wire import (
    SMALL_RESULT_CELLS,
    ValueError_,
    convert_record,
    encode_rows_python,
    parameter_value,
    python_encodable,
    row_encoder_sql,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from emulator.clock import Clock
    from emulator.ids import IdGenerator

LOCATION = "US"
META_SCHEMA = "_wallaroo_emulator_meta"
#: insertAll de-duplicates rows with the same insertId within this many (virtual) seconds.
INSERT_ID_WINDOW_S = 60


@dataclass
class DatasetMeta:
    project: str
    dataset: str
    created_ms: int
    modified_ms: int
    labels: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    friendly_name: str | None = None
    default_table_expiration_ms: str | None = None


@dataclass
class TableMeta:
    project: str
    dataset: str
    table: str
    schema: list[dict[str, Any]]
    created_ms: int
    modified_ms: int
    kind: str = "TABLE"  # TABLE or VIEW
    view_query: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    friendly_name: str | None = None
    expiration_ms: str | None = None


@dataclass
class QueryOutcome:
    """What one query (the last statement of a script) produced."""

    statement_type: str
    schema: list[dict[str, Any]] | None = None
    rows: Any = None  # pyarrow.Table for row-returning statements
    dml_affected: int | None = None
    ddl_target: tuple[str, str, str | None] | None = None
    ddl_operation: str | None = None
    referenced: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Job:
    project: str
    job_id: str
    job_type: str  # QUERY, LOAD, COPY, EXTRACT
    configuration: dict[str, Any]
    created_ms: int
    user_email: str
    location: str = LOCATION
    error: BigQueryError | None = None
    outcome: QueryOutcome | None = None
    output_rows: int | None = None
    cancelled: bool = False

    @property
    def total_rows(self) -> int | None:
        if self.outcome is not None and self.outcome.rows is not None:
            return self.outcome.rows.num_rows
        return None


class BigQueryBackend:
    """DuckDB-backed BigQuery catalog and job engine for one emulator."""

    def __init__(self, clock: Clock, ids: IdGenerator, database: Path | None = None) -> None:
        self.clock = clock
        self.ids = ids
        self.database = database
        self._con: Any = None
        self._lock = threading.RLock()
        self._projects: set[str] = set()
        self._datasets: dict[tuple[str, str], DatasetMeta] = {}
        self._tables: dict[tuple[str, str, str], TableMeta] = {}
        self._insert_ids: dict[tuple[str, str, str], dict[str, int]] = {}
        self.jobs: dict[tuple[str, str], Job] = {}
        self._request_cursor: Any = None
        self._encode_cursor: Any = None
        self._cursor_scope: tuple[str, str | None] | None = None
        self.user_email = "emulator@wallaroo-emulator.iam.gserviceaccount.com"
        if database is not None:
            self._open()  # a persistent catalog is read at once: its metadata must be there

    # ------------------------------------------------------------------------------------
    # DuckDB connection and catalogs
    # ------------------------------------------------------------------------------------
    @property
    def con(self) -> Any:
        if self._con is None:
            with self._lock:
                if self._con is None:
                    self._open()
        return self._con

    def _open(self) -> None:
        import duckdb

        if self.database is not None:
            self.database.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(self.database))
        else:
            con = duckdb.connect(":memory:")
        con.execute("SET TimeZone='UTC'").fetchall()
        from emulator.bigquery.sql_functions import register as register_functions

        register_functions(con)  # GoogleSQL functions DuckDB lacks (FARM_FINGERPRINT), seen by every cursor
        self._con = con
        if self.database is not None:
            self._load_persisted_meta()

    def close(self) -> None:
        with self._lock:
            self._forget_cursor()
            if self._encode_cursor is not None:
                self._encode_cursor.close()
                self._encode_cursor = None
            if self._con is not None:
                self._con.close()
                self._con = None

    def _exec(self, sql: str, params: Any = None) -> list[Any]:
        """Run one statement on the main connection and drain its result (DuckDB 2 requires it)."""
        result = self.con.execute(sql, params) if params is not None else self.con.execute(sql)
        try:
            return result.fetchall()
        except Exception:  # noqa: BLE001 - statements without a result set
            return []

    def _project_file(self, project: str) -> str:
        assert self.database is not None
        return str(self.database.with_name(f"{self.database.stem}.{project}.duckdb"))

    def ensure_project(self, project: str) -> None:
        """Attach the catalog of ``project`` (every project id exists, as in a fresh GCP project)."""
        if project in self._projects:
            return
        _check_project_id(project)
        with self._lock:
            if project in self._projects:
                return
            target = self._project_file(project) if self.database is not None else ":memory:"
            self._exec(f"ATTACH {_sql_str(target)} AS {quote_ident(project)}")
            self._projects.add(project)

    def _cursor(self, project: str, dataset: str | None = None) -> Any:
        """The request cursor, resolving names against ``project`` (and ``dataset``).

        One cursor is kept and reused (callers hold ``self._lock``): creating a DuckDB cursor,
        setting its time zone and ``USE`` cost more than a small query itself. ``USE`` is only
        re-run when the defaults change.
        """
        self.ensure_project(project)
        if dataset is not None:
            self.require_dataset(project, dataset)
        cur = self._request_cursor
        if cur is None:
            cur = self._request_cursor = self.con.cursor()
            cur.execute("SET TimeZone='UTC'").fetchall()
            self._cursor_scope = None
        scope = (project, dataset)
        if self._cursor_scope != scope:
            target = quote_ident(project) if dataset is None else f"{quote_ident(project)}.{quote_ident(dataset)}"
            cur.execute(f"USE {target}").fetchall()
            self._cursor_scope = scope
        return cur

    def _forget_cursor(self) -> None:
        """Drop the request cursor (after a failure that may have left it in a bad state)."""
        cur, self._request_cursor = self._request_cursor, None
        self._cursor_scope = None
        if cur is not None:
            try:
                cur.close()
            except Exception:  # noqa: BLE001 - closing a broken cursor
                pass

    # ------------------------------------------------------------------------------------
    # Persistence of metadata (file databases only)
    # ------------------------------------------------------------------------------------
    def _persist_meta(self) -> None:
        if self.database is None:
            return
        con = self.con
        self._exec(f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}")
        self._exec(f"CREATE TABLE IF NOT EXISTS {META_SCHEMA}.catalog (kind VARCHAR, body VARCHAR)")
        self._exec(f"DELETE FROM {META_SCHEMA}.catalog")
        rows = [("dataset", json.dumps(vars(m))) for m in self._datasets.values()]
        rows += [("table", json.dumps(vars(m))) for m in self._tables.values()]
        if rows:
            con.executemany(f"INSERT INTO {META_SCHEMA}.catalog VALUES (?, ?)", rows)

    def _load_persisted_meta(self) -> None:
        con = self._con
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'catalog'",
            [META_SCHEMA],
        ).fetchone()[0]
        if not exists:
            return
        for kind, body in con.execute(f"SELECT kind, body FROM {META_SCHEMA}.catalog").fetchall():
            data = json.loads(body)
            if data["project"] not in self._projects:
                self.ensure_project(data["project"])
            if kind == "dataset":
                self._datasets[(data["project"], data["dataset"])] = DatasetMeta(**data)
            else:
                self._tables[(data["project"], data["dataset"], data["table"])] = TableMeta(**data)

    # ------------------------------------------------------------------------------------
    # Datasets
    # ------------------------------------------------------------------------------------
    def create_dataset(self, project: str, dataset: str, *, exists_ok: bool = False,
                       labels: dict[str, str] | None = None, description: str | None = None,
                       friendly_name: str | None = None,
                       default_table_expiration_ms: str | None = None) -> DatasetMeta:
        _check_dataset_id(dataset)
        with self._lock:
            key = (project, dataset)
            if key in self._datasets:
                if exists_ok:
                    return self._datasets[key]
                raise Duplicate(f"Already Exists: Dataset {project}:{dataset}")
            self.ensure_project(project)
            self._exec(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(project)}.{quote_ident(dataset)}")
            now = self.clock.epoch_ms()
            meta = DatasetMeta(project, dataset, now, now, dict(labels or {}), description, friendly_name,
                               default_table_expiration_ms)
            self._datasets[key] = meta
            self._persist_meta()
            return meta

    def get_dataset(self, project: str, dataset: str) -> DatasetMeta:
        return self.require_dataset(project, dataset)

    def require_dataset(self, project: str, dataset: str) -> DatasetMeta:
        meta = self._datasets.get((project, dataset))
        if meta is None:
            raise dataset_not_found(project, dataset)
        return meta

    def list_datasets(self, project: str) -> list[DatasetMeta]:
        return sorted((m for (p, _), m in self._datasets.items() if p == project), key=lambda m: m.dataset)

    def update_dataset(self, project: str, dataset: str, changes: dict[str, Any]) -> DatasetMeta:
        with self._lock:
            meta = self.require_dataset(project, dataset)
            for key, value in changes.items():
                setattr(meta, key, value)
            meta.modified_ms = self.clock.epoch_ms()
            self._persist_meta()
            return meta

    def delete_dataset(self, project: str, dataset: str, *, delete_contents: bool = False,
                       not_found_ok: bool = False) -> None:
        with self._lock:
            if (project, dataset) not in self._datasets:
                if not_found_ok:
                    return
                raise dataset_not_found(project, dataset)
            tables = [k for k in self._tables if k[0] == project and k[1] == dataset]
            if tables and not delete_contents:
                raise Invalid(f"Dataset {project}:{dataset} is still in use")
            self._exec(f"DROP SCHEMA {quote_ident(project)}.{quote_ident(dataset)} CASCADE")
            for key in tables:
                del self._tables[key]
                self._insert_ids.pop(key, None)
            del self._datasets[(project, dataset)]
            self._persist_meta()

    # ------------------------------------------------------------------------------------
    # Tables
    # ------------------------------------------------------------------------------------
    def create_table(self, project: str, dataset: str, table: str, schema: list[dict[str, Any]] | None = None,
                     *, exists_ok: bool = False, view_query: str | None = None,
                     labels: dict[str, str] | None = None, description: str | None = None,
                     friendly_name: str | None = None, expiration_ms: str | None = None) -> TableMeta:
        _check_table_id(table)
        with self._lock:
            self.require_dataset(project, dataset)
            key = (project, dataset, table)
            if key in self._tables:
                if exists_ok:
                    return self._tables[key]
                raise Duplicate(f"Already Exists: Table {project}:{dataset}.{table}")
            qualified = _qualified(project, dataset, table)
            if view_query is not None:
                outcome_schema = self._create_view(project, dataset, table, view_query)
                now = self.clock.epoch_ms()
                meta = TableMeta(project, dataset, table, outcome_schema, now, now, "VIEW", view_query,
                                 dict(labels or {}), description, friendly_name, expiration_ms)
            else:
                fields = bqtypes.normalise_schema(schema or [])
                columns = bqtypes.table_ddl_columns(fields)
                self._exec(f"CREATE TABLE {qualified} ({columns})" if columns else
                                 f"CREATE TABLE {qualified} (\"__no_columns\" BOOLEAN)")
                now = self.clock.epoch_ms()
                meta = TableMeta(project, dataset, table, fields, now, now, "TABLE", None,
                                 dict(labels or {}), description, friendly_name, expiration_ms)
            self._tables[key] = meta
            self._persist_meta()
            return meta

    def _create_view(self, project: str, dataset: str, table: str, query: str) -> list[dict[str, Any]]:
        from emulator.bigquery.sql import translate

        statements = translate(query, project=project, dataset=None, now=self.clock.now())
        if len(statements) != 1 or statements[0].kind != "SELECT":
            raise Invalid("A view's query must be a single SELECT statement")
        cur = self._cursor(project)
        cur.execute(f"CREATE VIEW {_qualified(project, dataset, table)} AS {statements[0].sql}").fetchall()
        rel = cur.sql(f"SELECT * FROM {_qualified(project, dataset, table)}")
        return [bqtypes.field_from_duckdb(name, dtype) for name, dtype in zip(rel.columns, rel.types)]

    def get_table(self, project: str, dataset: str, table: str) -> TableMeta:
        return self.require_table(project, dataset, table)

    def require_table(self, project: str, dataset: str, table: str) -> TableMeta:
        meta = self._tables.get((project, dataset, table))
        if meta is None:
            self.require_dataset(project, dataset)
            raise table_not_found(project, dataset, table)
        return meta

    def table_schema(self, project: str, dataset: str, table: str) -> list[dict[str, Any]]:
        return self.require_table(project, dataset, table).schema

    def list_tables(self, project: str, dataset: str) -> list[TableMeta]:
        self.require_dataset(project, dataset)
        return sorted((m for (p, d, _), m in self._tables.items() if p == project and d == dataset),
                      key=lambda m: m.table)

    def row_count(self, project: str, dataset: str, table: str) -> int:
        meta = self.require_table(project, dataset, table)
        if meta.kind == "VIEW":
            return 0
        with self._lock:
            return int(self._exec(f"SELECT count(*) FROM {_qualified(project, dataset, table)}")[0][0])

    def delete_table(self, project: str, dataset: str, table: str) -> None:
        with self._lock:
            meta = self.require_table(project, dataset, table)
            what = "VIEW" if meta.kind == "VIEW" else "TABLE"
            self._exec(f"DROP {what} {_qualified(project, dataset, table)}")
            del self._tables[(project, dataset, table)]
            self._insert_ids.pop((project, dataset, table), None)
            self._persist_meta()

    def update_table(self, project: str, dataset: str, table: str, changes: dict[str, Any]) -> TableMeta:
        """tables.patch/update: description, labels, friendly name, expiration, and schema evolution.

        A new schema may add NULLABLE/REPEATED columns and relax REQUIRED to NULLABLE; anything else
        is refused with BigQuery's "Provided Schema does not match" error.
        """
        with self._lock:
            meta = self.require_table(project, dataset, table)
            if "schema" in changes and changes["schema"] is not None and meta.kind == "TABLE":
                new = bqtypes.normalise_schema(changes["schema"])
                self._evolve_schema(meta, new)
            for key in ("labels", "description", "friendly_name", "expiration_ms"):
                if key in changes:
                    setattr(meta, key, changes[key])
            meta.modified_ms = self.clock.epoch_ms()
            self._persist_meta()
            return meta

    def _evolve_schema(self, meta: TableMeta, new: list[dict[str, Any]]) -> None:
        old_by_name = {f["name"].lower(): f for f in meta.schema}
        qualified = _qualified(meta.project, meta.dataset, meta.table)
        new_names = {f["name"].lower() for f in new}
        for old in meta.schema:
            if old["name"].lower() not in new_names:
                raise Invalid(f"Provided Schema does not match Table {meta.project}:{meta.dataset}.{meta.table}. "
                              f"Field {old['name']} is missing in new schema")
        statements = []
        for f in new:
            old = old_by_name.get(f["name"].lower())
            if old is None:
                if f["mode"] == "REQUIRED":
                    raise Invalid(f"Provided Schema does not match Table {meta.project}:{meta.dataset}.{meta.table}. "
                                  f"Cannot add required field {f['name']}")
                statements.append(f"ALTER TABLE {qualified} ADD COLUMN {quote_ident(f['name'])} "
                                  f"{bqtypes.field_duckdb_type(f)}")
                continue
            if old["type"] != f["type"] or (old.get("fields") and old.get("fields") != f.get("fields")):
                raise Invalid(f"Provided Schema does not match Table {meta.project}:{meta.dataset}.{meta.table}. "
                              f"Field {f['name']} has changed type from {old['type']} to {f['type']}")
            if old["mode"] != f["mode"]:
                if old["mode"] == "REQUIRED" and f["mode"] == "NULLABLE":
                    statements.append(f"ALTER TABLE {qualified} ALTER COLUMN {quote_ident(f['name'])} DROP NOT NULL")
                else:
                    raise Invalid(f"Provided Schema does not match Table {meta.project}:{meta.dataset}.{meta.table}. "
                                  f"Field {f['name']} has changed mode from {old['mode']} to {f['mode']}")
        for statement in statements:
            self._exec(statement)
        meta.schema = new

    # ------------------------------------------------------------------------------------
    # Reading table data (tabledata.list)
    # ------------------------------------------------------------------------------------
    def read_rows(self, project: str, dataset: str, table: str, *, start: int = 0, max_results: int | None = None,
                  selected_fields: list[str] | None = None) -> tuple[Any, list[dict[str, Any]], int]:
        """(arrow rows, schema of those rows, total rows) of a table, in insertion order."""
        meta = self.require_table(project, dataset, table)
        if meta.kind == "VIEW":
            raise Invalid(f"Cannot list a table of type VIEW: {project}:{dataset}.{table}")
        schema = meta.schema
        if selected_fields:
            wanted = [name.strip().split(".")[0] for name in selected_fields if name.strip()]
            schema = [f for f in schema if f["name"] in wanted]
        cols = ", ".join(quote_ident(f["name"]) for f in schema) or "*"
        qualified = _qualified(project, dataset, table)
        with self._lock:
            total = int(self._exec(f"SELECT count(*) FROM {qualified}")[0][0])
            limit = "" if max_results is None else f" LIMIT {int(max_results)}"
            arrow = self.con.sql(f"SELECT {cols} FROM {qualified} ORDER BY rowid{limit} OFFSET {int(start)}").to_arrow_table()
        return arrow, schema, total

    def encode_rows(self, arrow: Any, schema: list[dict[str, Any]], *, int64_timestamps: bool = True) -> str:
        """The JSON text of a ``rows`` array (f/v cells) for an Arrow table following ``schema``."""
        if arrow.num_rows == 0:
            return "[]"
        if arrow.num_rows * max(len(schema), 1) <= SMALL_RESULT_CELLS and python_encodable(schema):
            return encode_rows_python(arrow.to_pylist(), schema, int64_timestamps)
        with self._lock:
            cur = self._encode_cursor
            if cur is None:
                cur = self._encode_cursor = self.con.cursor()
                cur.execute("SET TimeZone='UTC'").fetchall()
            cur.register("__bq_rows", arrow)
            try:
                encoded = cur.execute(row_encoder_sql(schema, "__bq_rows", int64_timestamps)).fetchall()
            finally:
                cur.unregister("__bq_rows")
        return "[" + ",".join(r[0] for r in encoded) + "]"

    # ------------------------------------------------------------------------------------
    # Writing rows
    # ------------------------------------------------------------------------------------
    def insert_rows(self, project: str, dataset: str, table: str, rows: list[dict[str, Any]], *,
                    skip_invalid_rows: bool = False, ignore_unknown_values: bool = False,
                    insert_ids: list[str | None] | None = None) -> list[dict[str, Any]]:
        """insertAll: returns BigQuery's ``insertErrors`` list (empty when every row went in).

        Without ``skip_invalid_rows`` one bad row keeps the whole request out and every other row
        is reported with reason ``stopped``; with it, the valid rows are stored.
        """
        meta = self.require_table(project, dataset, table)
        if meta.kind == "VIEW":
            raise Invalid(f"Cannot insert into a view: {project}:{dataset}.{table}")
        converted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        good_index: list[int] = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.append({"index": index, "errors": [{"reason": "invalid", "location": "", "debugInfo": "",
                                                           "message": "Row is not a JSON object."}]})
                continue
            try:
                converted.append(convert_record(row, meta.schema, ignore_unknown=ignore_unknown_values))
                good_index.append(index)
            except ValueError_ as exc:
                errors.append({"index": index, "errors": [{"reason": "invalid", "location": exc.location,
                                                           "debugInfo": "", "message": exc.message}]})
        if errors and not skip_invalid_rows:
            failed = {e["index"] for e in errors}
            stopped = [{"index": i, "errors": [{"reason": "stopped", "location": "", "debugInfo": "", "message": ""}]}
                       for i in range(len(rows)) if i not in failed]
            return sorted(errors + stopped, key=lambda e: e["index"])
        if converted:
            if insert_ids:
                converted = self._dedupe(project, dataset, table, converted, [insert_ids[i] for i in good_index])
            self._append_pylist(meta, converted)
        return errors

    def _dedupe(self, project: str, dataset: str, table: str, rows: list[dict[str, Any]],
                ids: list[str | None]) -> list[dict[str, Any]]:
        now = self.clock.epoch_ms()
        seen = self._insert_ids.setdefault((project, dataset, table), {})
        horizon = now - INSERT_ID_WINDOW_S * 1000
        for key in [k for k, ms in seen.items() if ms < horizon]:
            del seen[key]
        kept = []
        for row, insert_id in zip(rows, ids):
            if insert_id:
                if insert_id in seen:
                    continue
                seen[insert_id] = now
            kept.append(row)
        return kept

    def _append_pylist(self, meta: TableMeta, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa

        schema = bqtypes.arrow_schema(meta.schema)
        try:
            arrow = pa.Table.from_pylist(rows, schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise Invalid(f"Error while reading data, error message: {exc}") from None
        self.load_arrow(meta.project, meta.dataset, meta.table, arrow, write_disposition="WRITE_APPEND",
                        create_disposition="CREATE_NEVER")

    def load_arrow(self, project: str, dataset: str, table: str, arrow: pa.Table, *,
                   write_disposition: str = "WRITE_APPEND", create_disposition: str = "CREATE_IF_NEEDED",
                   schema: list[dict[str, Any]] | None = None) -> int:
        """Store an Arrow table into a table, creating it if allowed; returns rows written.

        Columns are matched by name (case-insensitively); table columns missing from the data are
        NULL (empty for REPEATED). The whole write is one transaction.
        """
        with self._lock:
            key = (project, dataset, table)
            meta = self._tables.get(key)
            if meta is None:
                if create_disposition == "CREATE_NEVER":
                    self.require_dataset(project, dataset)
                    raise table_not_found(project, dataset, table)
                fields = bqtypes.normalise_schema(schema) if schema else bqtypes.schema_from_arrow(arrow.schema)
                meta = self.create_table(project, dataset, table, fields)
            elif meta.kind == "VIEW":
                raise Invalid(f"Cannot write to a view: {project}:{dataset}.{table}")
            qualified = _qualified(project, dataset, table)
            by_lower = {name.lower(): name for name in arrow.column_names}
            known = {f["name"].lower() for f in meta.schema}
            for name in arrow.column_names:
                if name.lower() not in known:
                    raise Invalid(f"Provided Schema does not match Table {project}:{dataset}.{table}. "
                                  f"Cannot add fields (field: {name})")
            projections = []
            for f in meta.schema:
                source = by_lower.get(f["name"].lower())
                target_type = bqtypes.field_duckdb_type(f)
                if source is None:
                    default = "[]" if f["mode"] == "REPEATED" else "NULL"
                    if f["mode"] == "REQUIRED":
                        raise Invalid(f"Required field {f['name']} cannot be null")
                    projections.append(f"CAST({default} AS {target_type})")
                else:
                    expr = quote_ident(source)
                    if f["mode"] == "REPEATED":
                        expr = f"coalesce({expr}, [])"
                    projections.append(f"CAST({expr} AS {target_type})")
            cur = self.con.cursor()
            cur.execute("SET TimeZone='UTC'")
            cur.register("__bq_load", arrow)
            try:
                cur.execute("BEGIN TRANSACTION")
                try:
                    if write_disposition == "WRITE_TRUNCATE":
                        cur.execute(f"DELETE FROM {qualified}")
                    elif write_disposition == "WRITE_EMPTY":
                        if cur.execute(f"SELECT count(*) FROM {qualified}").fetchone()[0]:
                            raise Duplicate(f"Already Exists: Table {project}:{dataset}.{table}")
                    if arrow.num_rows:
                        cur.execute(f"INSERT INTO {qualified} SELECT {', '.join(projections)} FROM __bq_load")
                    cur.execute("COMMIT")
                except BaseException as exc:
                    cur.execute("ROLLBACK")
                    if isinstance(exc, BigQueryError):
                        raise
                    if _is_duckdb_error(exc):
                        raise Invalid(_load_error_message(exc)) from None
                    raise
            finally:
                cur.unregister("__bq_load")
                cur.close()
            meta.modified_ms = self.clock.epoch_ms()
            return arrow.num_rows

    # ------------------------------------------------------------------------------------
    # Queries
    # ------------------------------------------------------------------------------------
    def query(self, sql: str, *, project: str, dataset: str | None = None,
              parameters: list[dict[str, Any]] | None = None, parameter_mode: str | None = None) -> Any:
        """Run GoogleSQL and return the result as a pyarrow Table (empty for DDL/DML)."""
        import pyarrow as pa

        outcome = self.execute(sql, project=project, dataset=dataset, parameters=parameters,
                               parameter_mode=parameter_mode)
        return outcome.rows if outcome.rows is not None else pa.table({})

    def execute(self, sql: str, *, project: str, dataset: str | None = None,
                parameters: list[dict[str, Any]] | None = None, parameter_mode: str | None = None,
                dry_run: bool = False) -> QueryOutcome:
        """Translate and run a (possibly multi-statement) GoogleSQL request in one transaction."""
        from emulator.bigquery.sql import clock_variable_sql, translate

        if not isinstance(sql, str) or not sql.strip():
            raise InvalidQuery("Syntax error: Unexpected end of script at [1:1]")
        bind, param_types = _bind_parameters(parameters or [], parameter_mode)
        tables = self._tables

        def schema_of(p: str, d: str, t: str) -> list[dict[str, Any]] | None:
            meta = tables.get((p, d, t))
            return meta.schema if meta is not None else None

        statements = translate(sql, project=project, dataset=dataset, now=self.clock.now(),
                               param_types=param_types or None, catalog=schema_of)
        if not statements:
            raise InvalidQuery("Syntax error: Unexpected end of script at [1:1]")
        with self._lock:
            for ref in _all_referenced(statements):
                self._check_reference(ref)
            if dry_run:
                return self._dry_run(statements, project, dataset, bind)
            cur = self._cursor(project, dataset)
            outcome: QueryOutcome | None = None
            # A read-only request needs no transaction (two round trips saved per query).
            writes = any(statement.kind != "SELECT" for statement in statements)
            declared = _declared_variables(statements)
            journal: dict[tuple[str, str, str], TableMeta | None] = {}
            try:
                if writes:
                    # column DEFAULTs such as CURRENT_TIMESTAMP() read the virtual clock from here
                    cur.execute(clock_variable_sql(self.clock.now())).fetchall()
                    cur.execute("BEGIN TRANSACTION").fetchall()
                for statement in statements:
                    self._remember(journal, statement)
                    outcome = self._run_statement(cur, statement, _bind_for(statement, bind))
                if writes:
                    cur.execute("COMMIT").fetchall()
            except BaseException as exc:
                if writes:
                    try:
                        cur.execute("ROLLBACK").fetchall()
                    except Exception:  # noqa: BLE001 - the transaction may already be aborted
                        pass
                self._forget_cursor()
                self._restore(journal)
                declared = []
                if isinstance(exc, BigQueryError):
                    raise
                if _is_duckdb_error(exc):
                    raise _translate_duckdb_error(exc, project, dataset) from None
                raise
            finally:
                # script variables live for one request, as in BigQuery (the cursor is reused)
                for name in declared:
                    try:
                        cur.execute(f"RESET VARIABLE {name}").fetchall()
                    except Exception:  # noqa: BLE001 - never set: the script failed before it
                        pass
            self._persist_meta()
            assert outcome is not None
            outcome.referenced = [(r.project, r.dataset, r.table) for r in _all_referenced(statements)
                                  if r.table]
            return outcome

    def _check_reference(self, ref: Any) -> None:
        if ref.table is None:
            return
        if ref.dataset.upper() == "INFORMATION_SCHEMA" or ref.table.upper().startswith("INFORMATION_SCHEMA"):
            return
        if (ref.project, ref.dataset) not in self._datasets:
            raise NotFound(f"Not found: Dataset {ref.project}:{ref.dataset} was not found in location {LOCATION}")
        if (ref.project, ref.dataset, ref.table) not in self._tables:
            raise NotFound(f"Not found: Table {ref.project}:{ref.dataset}.{ref.table} was not found in location "
                           f"{LOCATION}")

    def _dry_run(self, statements: list[Any], project: str, dataset: str | None, bind: Any) -> QueryOutcome:
        last = statements[-1]
        schema = None
        if last.kind == "SELECT":
            cur = self._cursor(project, dataset)
            bound = _bind_for(last, bind)
            try:
                rel = cur.sql(last.sql, params=bound) if bound else cur.sql(last.sql)
                schema = [bqtypes.field_from_duckdb(n, t) for n, t in zip(rel.columns, rel.types)]
            except Exception as exc:  # noqa: BLE001
                self._forget_cursor()
                if _is_duckdb_error(exc):
                    raise _translate_duckdb_error(exc, project, dataset) from None
                raise
        return QueryOutcome(statement_type=last.kind, schema=schema)

    def _remember(self, journal: dict[tuple[str, str, str], TableMeta | None], statement: Any) -> None:
        """Keep the catalog entries a statement may change, as they were before the request."""
        refs = [getattr(statement, "target", None), getattr(statement, "renamed_to", None)]
        for ref in refs:
            if ref is None or ref.table is None:
                continue
            key = (ref.project, ref.dataset, ref.table)
            if key not in journal:
                meta = self._tables.get(key)
                journal[key] = None if meta is None else dataclasses.replace(
                    meta, schema=list(meta.schema), labels=dict(meta.labels))

    def _restore(self, journal: dict[tuple[str, str, str], TableMeta | None]) -> None:
        """DuckDB rolled the failed request back; put the catalog entries it touched back too."""
        for key, meta in journal.items():
            if meta is None:
                self._tables.pop(key, None)
                self._insert_ids.pop(key, None)
            else:
                self._tables[key] = meta

    def _run_statement(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        kind = statement.kind
        target = statement.target
        if kind in ("CREATE_SCHEMA", "DROP_SCHEMA"):
            return self._schema_statement(statement)
        if kind in ("CREATE_TABLE", "CREATE_TABLE_AS_SELECT", "CREATE_VIEW") and target is not None:
            key = (target.project, target.dataset, target.table)
            self.require_dataset(target.project, target.dataset)
            if key in self._tables and statement.if_not_exists:
                return QueryOutcome(kind, ddl_target=key, ddl_operation="SKIP")
            if key in self._tables and not statement.or_replace:
                raise Duplicate(f"Already Exists: Table {target.project}:{target.dataset}.{target.table}")
            if key in self._tables and statement.or_replace:
                old = self._tables[key]
                cur.execute(f"DROP {'VIEW' if old.kind == 'VIEW' else 'TABLE'} IF EXISTS "
                            f"{_qualified(*key)}")
                del self._tables[key]
            self.ensure_project(target.project)
        if kind in ("DROP_TABLE", "DROP_VIEW", "TRUNCATE_TABLE", "ALTER_TABLE") and target is not None:
            key = (target.project, target.dataset, target.table)
            if key not in self._tables:
                if statement.if_exists:
                    return QueryOutcome(kind, ddl_target=key, ddl_operation="SKIP")
                self.require_dataset(target.project, target.dataset)
                raise table_not_found(target.project, target.dataset, target.table)
        if kind in ("INSERT", "UPDATE", "DELETE", "MERGE") and target is not None:
            key = (target.project, target.dataset, target.table)
            meta = self._tables.get(key)
            if meta is None:
                self.require_dataset(target.project, target.dataset)
                raise NotFound(f"Not found: Table {target.project}:{target.dataset}.{target.table} was not found "
                               f"in location {LOCATION}")
            if meta.kind == "VIEW":
                raise InvalidQuery(f"Cannot execute DML over a view: {target.project}:{target.dataset}.{target.table}")

        if kind == "SELECT":
            rel = cur.sql(statement.sql, params=bind) if bind else cur.sql(statement.sql)
            if rel is None:
                return QueryOutcome(kind)
            schema = [bqtypes.field_from_duckdb(n, t) for n, t in zip(rel.columns, rel.types)]
            return QueryOutcome(kind, schema=schema, rows=rel.to_arrow_table())

        result = cur.execute(statement.sql, bind) if bind else cur.execute(statement.sql)
        now = self.clock.epoch_ms()
        if kind in ("INSERT", "UPDATE", "DELETE", "MERGE"):
            rows = result.fetchall()
            row = rows[0] if rows else None
            affected = int(row[0]) if row and row[0] is not None else 0
            if target is not None:
                self._tables[(target.project, target.dataset, target.table)].modified_ms = now
            return QueryOutcome(kind, dml_affected=affected)
        if result is not None:
            try:
                result.fetchall()
            except Exception:  # noqa: BLE001 - DDL has no result to drain
                pass
        if target is None:
            return QueryOutcome(kind)
        key = (target.project, target.dataset, target.table)
        if kind in ("CREATE_TABLE", "CREATE_TABLE_AS_SELECT", "CREATE_VIEW"):
            rel = cur.sql(f"SELECT * FROM {_qualified(*key)}")
            derived = [bqtypes.field_from_duckdb(n, t) for n, t in zip(rel.columns, rel.types)]
            schema = _merge_declared(derived, statement.columns)
            view_sql = statement.sql if kind == "CREATE_VIEW" else None
            self._tables[key] = TableMeta(*key, schema=schema, created_ms=now, modified_ms=now,
                                          kind="VIEW" if kind == "CREATE_VIEW" else "TABLE", view_query=view_sql)
            return QueryOutcome(kind, ddl_target=key, ddl_operation="REPLACE" if statement.or_replace else "CREATE")
        if kind in ("DROP_TABLE", "DROP_VIEW"):
            self._tables.pop(key, None)
            self._insert_ids.pop(key, None)
            return QueryOutcome(kind, ddl_target=key, ddl_operation="DROP")
        if kind == "ALTER_TABLE":
            meta = self._tables[key]
            renamed = getattr(statement, "renamed_to", None)
            if renamed is not None:
                new_key = (renamed.project, renamed.dataset, renamed.table)
                if new_key in self._tables:
                    raise Duplicate(f"Already Exists: Table {renamed.project}:{renamed.dataset}.{renamed.table}")
                del self._tables[key]
                self._insert_ids.pop(key, None)
                meta.project, meta.dataset, meta.table = new_key
                meta.modified_ms = now
                self._tables[new_key] = meta
                return QueryOutcome(kind, ddl_target=new_key, ddl_operation="ALTER")
            rel = cur.sql(f"SELECT * FROM {_qualified(*key)}")
            derived = [bqtypes.field_from_duckdb(n, t) for n, t in zip(rel.columns, rel.types)]
            old = {f["name"].lower(): f for f in meta.schema}
            declared = {f["name"].lower(): f for f in bqtypes.normalise_schema(statement.columns or [])}
            meta.schema = [old.get(f["name"].lower()) or declared.get(f["name"].lower()) or f for f in derived]
            meta.modified_ms = now
            return QueryOutcome(kind, ddl_target=key, ddl_operation="ALTER")
        if kind == "TRUNCATE_TABLE":
            self._tables[key].modified_ms = now
            return QueryOutcome(kind, ddl_target=key)
        return QueryOutcome(kind, ddl_target=key)

    def _schema_statement(self, statement: Any) -> QueryOutcome:
        """CREATE/DROP SCHEMA through the dataset API. Known limit: these take effect at once, so a
        script that fails later keeps them (as outside a transaction in BigQuery)."""
        target = statement.target
        if statement.kind == "CREATE_SCHEMA":
            if (target.project, target.dataset) in self._datasets and statement.if_not_exists:
                return QueryOutcome(statement.kind, ddl_target=(target.project, target.dataset, None),
                                    ddl_operation="SKIP")
            self.create_dataset(target.project, target.dataset)
            return QueryOutcome(statement.kind, ddl_target=(target.project, target.dataset, None),
                                ddl_operation="CREATE")
        if (target.project, target.dataset) not in self._datasets and statement.if_exists:
            return QueryOutcome(statement.kind, ddl_target=(target.project, target.dataset, None), ddl_operation="SKIP")
        self.delete_dataset(target.project, target.dataset, delete_contents="CASCADE" in (statement.sql or "").upper()
                            or bool(getattr(statement, "cascade", False)))
        return QueryOutcome(statement.kind, ddl_target=(target.project, target.dataset, None), ddl_operation="DROP")

    # ------------------------------------------------------------------------------------
    # Jobs
    # ------------------------------------------------------------------------------------
    def new_job_id(self) -> str:
        return "job_" + self.ids.hex(16, kind="bigquery-job")

    def get_job(self, project: str, job_id: str) -> Job:
        job = self.jobs.get((project, job_id))
        if job is None:
            raise NotFound(f"Not found: Job {project}:{LOCATION}.{job_id}")
        return job

    def register_job(self, job: Job) -> Job:
        key = (job.project, job.job_id)
        if key in self.jobs:
            raise Duplicate(f"Already Exists: Job {job.project}:{LOCATION}.{job.job_id}")
        self.jobs[key] = job
        return job

    def run_query_job(self, job: Job) -> Job:
        """Execute a QUERY job's configuration; failures are recorded on the job (HTTP 200 + errorResult)."""
        config = job.configuration.get("query") or {}
        try:
            if config.get("useLegacySql") is True:
                raise InvalidQuery("Legacy SQL is not supported by wallaroo-emulator; set use_legacy_sql=False")
            default = config.get("defaultDataset") or {}
            project = default.get("projectId") or job.project
            outcome = self.execute(
                config.get("query", ""),
                project=project if not default else default.get("projectId", job.project),
                dataset=default.get("datasetId"),
                parameters=config.get("queryParameters"),
                parameter_mode=config.get("parameterMode"),
                dry_run=bool(job.configuration.get("dryRun")),
            )
            destination = config.get("destinationTable")
            if destination and outcome.rows is not None and not job.configuration.get("dryRun"):
                self.load_arrow(
                    destination.get("projectId", job.project), destination["datasetId"], destination["tableId"],
                    outcome.rows, write_disposition=config.get("writeDisposition") or "WRITE_EMPTY",
                    create_disposition=config.get("createDisposition") or "CREATE_IF_NEEDED",
                    schema=outcome.schema,
                )
            job.outcome = outcome
        except BigQueryError as exc:
            job.error = exc
        return job


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def _qualified(project: str, dataset: str, table: str | None) -> str:
    return f"{quote_ident(project)}.{quote_ident(dataset)}.{quote_ident(table or '')}"


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _check_project_id(project: str) -> None:
    import re

    if not re.fullmatch(r"(?:[a-z][a-z0-9.:-]{0,62}[a-z0-9]|[a-z])", project or "", flags=re.IGNORECASE):
        raise Invalid(f"Invalid project ID '{project}'. Project IDs must contain 6-63 lowercase letters, digits, "
                      "or dashes. Some project IDs also include domain name separated by a colon. IDs must start "
                      "with a letter and may not end with a dash.")


def _check_dataset_id(dataset: str) -> None:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_]{1,1024}", dataset or ""):
        raise Invalid(f"Invalid dataset ID \"{dataset}\". Dataset IDs must be alphanumeric (plus underscores) "
                      "and must be at most 1024 characters long.")


def _check_table_id(table: str) -> None:
    import re

    if not table or len(table) > 1024 or not re.fullmatch(r"[\w\- $]+", table, flags=re.UNICODE):
        raise Invalid(f"Invalid table ID \"{table}\". Table IDs must be alphanumeric (plus underscores) and must "
                      "be at most 1024 characters long. Also, Table decorators cannot be used.")


def _bind_parameters(parameters: list[dict[str, Any]], mode: str | None) -> tuple[Any, Any]:
    if not parameters:
        return None, None
    named = (mode or "").upper() == "NAMED" or any(p.get("name") for p in parameters)
    if named:
        values: dict[str, Any] = {}
        types: dict[str, Any] = {}
        for p in parameters:
            name = p.get("name")
            if not name:
                raise Invalid("Query parameters must all be named or all positional")
            types[name] = p.get("parameterType") or {"type": "STRING"}
            values[name] = parameter_value(types[name], p.get("parameterValue"), name)
        return values, types
    out_values = []
    out_types = []
    for index, p in enumerate(parameters):
        ptype = p.get("parameterType") or {"type": "STRING"}
        out_types.append(ptype)
        out_values.append(parameter_value(ptype, p.get("parameterValue"), f"positional parameter {index + 1}"))
    return out_values, out_types


def _declared_variables(statements: list[Any]) -> list[str]:
    """Session variables a script's DECLARE statements create (quoted as DuckDB needs them)."""
    import re

    names: list[str] = []
    for statement in statements:
        if statement.kind == "DECLARE":
            names += re.findall(r'SET VARIABLE ("(?:[^"]|"")+"|\w+)', statement.sql)
    return names


def _bind_for(statement: Any, bind: Any) -> Any:
    """The parameter values one statement uses (DuckDB refuses bindings a statement does not use)."""
    if not bind:
        return None
    used = getattr(statement, "parameters", None)
    if used is None:
        return bind
    if isinstance(bind, dict):
        sql_names = getattr(statement, "parameter_names", None) or {}
        return {sql_names.get(name, name): bind[name] for name in used if name in bind} or None
    return [bind[i] for i in used if isinstance(i, int) and i < len(bind)] or None


def _all_referenced(statements: list[Any]) -> list[Any]:
    seen = []
    for statement in statements:
        for ref in getattr(statement, "referenced", []) or []:
            if ref not in seen:
                seen.append(ref)
    # tables created earlier in the same script are not missing references
    created = {(s.target.project, s.target.dataset, s.target.table) for s in statements
               if s.target is not None and s.kind.startswith("CREATE")}
    return [r for r in seen if (r.project, r.dataset, r.table) not in created]


def _merge_declared(derived: list[dict[str, Any]], declared: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if not declared:
        return derived
    by_name = {f["name"].lower(): f for f in bqtypes.normalise_schema(declared)}
    return [by_name.get(f["name"].lower(), f) for f in derived]


def _is_duckdb_error(exc: BaseException) -> bool:
    import duckdb

    return isinstance(exc, duckdb.Error)


def _load_error_message(exc: BaseException) -> str:
    text = str(exc).split("\n")[0]
    return f"Error while reading data, error message: {text}"


def _translate_duckdb_error(exc: BaseException, project: str, dataset: str | None) -> BigQueryError:
    """Map a DuckDB error to BigQuery's reason and message pattern."""
    import re

    import duckdb

    from emulator.bigquery.sql_errors import runtime_error

    mapped = runtime_error(exc)  # errors the translated SQL raises itself, in BigQuery's words
    if mapped is not None:
        return mapped

    text = str(exc)
    first = text.split("\n")[0]
    if isinstance(exc, duckdb.CatalogException):
        match = re.search(r"Table with name (\S+) does not exist", first)
        if match:
            name = match.group(1)
            return NotFound(f"Not found: Table {project}:{dataset + '.' if dataset else ''}{name} was not found in "
                            f"location {LOCATION}")
        match = re.search(r'Referenced column "?([^"\s]+)"? not found', first)
        if match:
            return InvalidQuery(f"Unrecognized name: {match.group(1)}")
        return InvalidQuery(first.replace("Catalog Error: ", ""))
    if isinstance(exc, duckdb.BinderException):
        match = re.search(r'Referenced column "?([^"\s]+)"? not found', first)
        if match:
            return InvalidQuery(f"Unrecognized name: {match.group(1)}")
        match = re.search(r"No function matches the given name and argument types '([^(]+)\(([^)]*)\)'", first)
        if match:
            return InvalidQuery(f"No matching signature for function {match.group(1).upper()} for argument types: "
                                f"{match.group(2)}")
        return InvalidQuery(first.replace("Binder Error: ", ""))
    if isinstance(exc, duckdb.ConstraintException):
        match = re.search(r"NOT NULL constraint failed: (\S+)", first)
        if match:
            return Invalid(f"Required field {match.group(1).split('.')[-1]} cannot be null")
        return Invalid(first.replace("Constraint Error: ", ""))
    if isinstance(exc, duckdb.ConversionException | duckdb.InvalidInputException):
        return InvalidQuery(first.replace("Conversion Error: ", "").replace("Invalid Input Error: ", ""))
    if isinstance(exc, duckdb.OutOfRangeException):
        return InvalidQuery(first.replace("Out of Range Error: ", ""))
    if isinstance(exc, duckdb.ParserException):
        return InvalidQuery("Syntax error: " + first.replace("Parser Error: ", ""))
    if "Division by zero" in first or "division by zero" in first:
        return InvalidQuery(f"division by zero: {first}")
    return InvalidQuery(first)
