"""The BigQuery backend: one front over the parts that hold BigQuery's state and behaviour.

Plain Python API (no HTTP): the REST adapter (``rest.py``) and tests call it directly. The parts,
each in its own module:

* :mod:`~emulator.bigquery.engine` — the DuckDB database, project catalogs, cursors, one lock;
* :mod:`~emulator.bigquery.catalog` — datasets and tables with their BigQuery metadata,
  persistence of that metadata, the journal that undoes a failed statement's catalog changes;
* :mod:`~emulator.bigquery.tabledata` — reading, loading and encoding rows;
* :mod:`~emulator.bigquery.insert_all` — streaming inserts (insertAll) and insertId de-duplication;
* :mod:`~emulator.bigquery.queries` and :mod:`~emulator.bigquery.statements` — GoogleSQL requests
  and the statements they translate to;
* :mod:`~emulator.bigquery.script` — the procedural language of scripts (control flow, system variables);
* :mod:`~emulator.bigquery.routines` — routines (SQL functions and table functions made callable);
* :mod:`~emulator.bigquery.sessions` — sessions (temporary tables and variables kept between jobs);
* :mod:`~emulator.bigquery.jobs` — jobs and their execution.

All timestamps come from the emulator's clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.bigquery.catalog import META_SCHEMA, Catalog, DatasetMeta, TableMeta
from emulator.bigquery.engine import Engine
from emulator.bigquery.insert_all import INSERT_ID_WINDOW_S, StreamingInserts
from emulator.bigquery.jobs import Job, JobRunner, JobStore
from emulator.bigquery.queries import Queries
from emulator.bigquery.routines import Routines
from emulator.bigquery.sessions import Sessions
from emulator.bigquery.statements import LOCATION, QueryOutcome
from emulator.bigquery.tabledata import TableData

if TYPE_CHECKING:
    import pyarrow as pa

    from emulator.clock import Clock
    from emulator.ids import IdGenerator

__all__ = ["BigQueryBackend", "DatasetMeta", "TableMeta", "Job", "QueryOutcome", "LOCATION", "META_SCHEMA",
           "INSERT_ID_WINDOW_S"]


class BigQueryBackend:
    """DuckDB-backed BigQuery catalog and job engine for one emulator."""

    def __init__(self, clock: Clock, ids: IdGenerator, database: Path | None = None) -> None:
        self.clock = clock
        self.ids = ids
        self.database = database
        self.user_email = "emulator@wallaroo-emulator.iam.gserviceaccount.com"
        self.engine = Engine(database)
        self.catalog = Catalog(self.engine, clock)
        self.data = TableData(self.engine, self.catalog)
        self.streaming = StreamingInserts(self.catalog, self.data, clock)
        self.sessions = Sessions(self.engine, ids)
        self.queries = Queries(self.engine, self.catalog, clock, self.sessions)
        self.streaming.evaluate = self._evaluate_expressions
        self.routines = Routines(self.catalog, clock, lambda sql, project: self.execute(sql, project=project))
        self.jobs = JobStore(ids)
        self.job_runner = JobRunner(self.queries, self.catalog, self.data, self.jobs)
        if database is not None:
            _ = self.engine.con  # a persistent catalog is read at once: its metadata must be there

    def close(self) -> None:
        self.sessions.close()
        self.engine.close()

    # -- projects and datasets --------------------------------------------------------------
    def ensure_project(self, project: str) -> None:
        self.engine.ensure_project(project)

    def list_projects(self) -> list[str]:
        return self.catalog.projects()

    def create_dataset(self, project: str, dataset: str, *, exists_ok: bool = False,
                       labels: dict[str, str] | None = None, description: str | None = None,
                       friendly_name: str | None = None,
                       default_table_expiration_ms: str | None = None, location: str | None = None,
                       options: dict[str, Any] | None = None) -> DatasetMeta:
        """A dataset in ``location`` (US, EU or a region such as ``europe-west2``; US by default);
        ``options``: isCaseInsensitive & co. by DatasetMeta attribute name (``catalog.DATASET_OPTIONS``)."""
        return self.catalog.create_dataset(project, dataset, exists_ok=exists_ok, labels=labels,
                                           description=description, friendly_name=friendly_name,
                                           default_table_expiration_ms=default_table_expiration_ms, location=location,
                                           options=options)

    def get_dataset(self, project: str, dataset: str) -> DatasetMeta:
        return self.catalog.require_dataset(project, dataset)

    def require_dataset(self, project: str, dataset: str) -> DatasetMeta:
        return self.catalog.require_dataset(project, dataset)

    def list_datasets(self, project: str) -> list[DatasetMeta]:
        return self.catalog.list_datasets(project)

    def update_dataset(self, project: str, dataset: str, changes: dict[str, Any]) -> DatasetMeta:
        return self.catalog.update_dataset(project, dataset, changes)

    def delete_dataset(self, project: str, dataset: str, *, delete_contents: bool = False,
                       not_found_ok: bool = False) -> None:
        self.catalog.delete_dataset(project, dataset, delete_contents=delete_contents, not_found_ok=not_found_ok)

    # -- tables -----------------------------------------------------------------------------
    def create_table(self, project: str, dataset: str, table: str, schema: list[dict[str, Any]] | None = None,
                     *, exists_ok: bool = False, view_query: str | None = None,
                     labels: dict[str, str] | None = None, description: str | None = None,
                     friendly_name: str | None = None, expiration_ms: str | None = None,
                     options: dict[str, Any] | None = None) -> TableMeta:
        """A table (or a view with ``view_query``); ``options``: partitioning, clustering, constraints
        (TableMeta attribute names, see ``catalog.TABLE_OPTIONS``)."""
        return self.catalog.create_table(project, dataset, table, schema, exists_ok=exists_ok, view_query=view_query,
                                         labels=labels, description=description, friendly_name=friendly_name,
                                         expiration_ms=expiration_ms, options=options)

    def get_table(self, project: str, dataset: str, table: str) -> TableMeta:
        return self.catalog.require_table(project, dataset, table)

    def require_table(self, project: str, dataset: str, table: str) -> TableMeta:
        return self.catalog.require_table(project, dataset, table)

    def table_schema(self, project: str, dataset: str, table: str) -> list[dict[str, Any]]:
        return self.catalog.require_table(project, dataset, table).schema

    def list_tables(self, project: str, dataset: str) -> list[TableMeta]:
        return self.catalog.list_tables(project, dataset)

    def update_table(self, project: str, dataset: str, table: str, changes: dict[str, Any]) -> TableMeta:
        return self.catalog.update_table(project, dataset, table, changes)

    def delete_table(self, project: str, dataset: str, table: str) -> None:
        self.catalog.delete_table(project, dataset, table)

    # -- table data -------------------------------------------------------------------------
    def row_count(self, project: str, dataset: str, table: str) -> int:
        return self.data.row_count(project, dataset, table)

    def read_rows(self, project: str, dataset: str, table: str, *, start: int = 0, max_results: int | None = None,
                  selected_fields: list[str] | None = None) -> tuple[Any, list[dict[str, Any]], int]:
        """(arrow rows, schema of those rows, total rows) of a table, in insertion order."""
        return self.data.read_rows(project, dataset, table, start=start, max_results=max_results,
                                   selected_fields=selected_fields)

    def encode_rows(self, arrow: Any, schema: list[dict[str, Any]], *, int64_timestamps: bool = True) -> str:
        """The JSON text of a ``rows`` array (f/v cells) for an Arrow table following ``schema``."""
        return self.data.encode_rows(arrow, schema, int64_timestamps=int64_timestamps)

    def insert_rows(self, project: str, dataset: str, table: str, rows: list[dict[str, Any]], *,
                    skip_invalid_rows: bool = False, ignore_unknown_values: bool = False,
                    insert_ids: list[str | None] | None = None) -> list[dict[str, Any]]:
        """insertAll: returns BigQuery's ``insertErrors`` list (empty when every row went in)."""
        return self.streaming.insert_rows(project, dataset, table, rows, skip_invalid_rows=skip_invalid_rows,
                                          ignore_unknown_values=ignore_unknown_values, insert_ids=insert_ids)

    def load_arrow(self, project: str, dataset: str, table: str, arrow: pa.Table, *,
                   write_disposition: str = "WRITE_APPEND", create_disposition: str = "CREATE_IF_NEEDED",
                   schema: list[dict[str, Any]] | None = None) -> int:
        """Store an Arrow table into a table, creating it if allowed; returns rows written."""
        return self.data.load_arrow(project, dataset, table, arrow, write_disposition=write_disposition,
                                    create_disposition=create_disposition, schema=schema)

    def _evaluate_expressions(self, expressions: list[str], project: str) -> list[Any]:
        """The values of GoogleSQL expressions (column defaults), evaluated now, as stored Python values."""
        sql = "SELECT " + ", ".join(f"({e}) AS c{i}" for i, e in enumerate(expressions))
        rows = self.execute(sql, project=project).rows
        assert rows is not None
        return list(rows.to_pylist()[0].values())

    # -- queries ----------------------------------------------------------------------------
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
        """Translate and run a (possibly multi-statement) GoogleSQL request."""
        return self.queries.execute(sql, project=project, dataset=dataset, parameters=parameters,
                                    parameter_mode=parameter_mode, dry_run=dry_run)

    # -- jobs -------------------------------------------------------------------------------
    def new_job_id(self) -> str:
        return self.jobs.new_job_id()

    def new_job(self, project: str, job_type: str, configuration: dict[str, Any], *, job_id: str | None = None,
                location: str | None = None) -> Job:
        """A job record (not yet registered nor run) created now by the emulator's user."""
        from emulator.bigquery.catalog import canonical_location

        return Job(project=project, job_id=job_id or self.jobs.new_job_id(), job_type=job_type,
                   configuration=configuration, created_ms=self.clock.epoch_ms(), user_email=self.user_email,
                   location=canonical_location(location) if location else LOCATION,
                   location_requested=bool(location))

    def new_upload_id(self) -> str:
        """The id of a resumable upload session."""
        return self.ids.hex(12, kind="bigquery-upload")

    def get_job(self, project: str, job_id: str) -> Job:
        return self.jobs.get(project, job_id)

    def list_jobs(self, project: str, *, parent_job_id: str | None = None) -> list[Job]:
        """Newest first: the child jobs of ``parent_job_id`` (a script's statements), else the top-level jobs."""
        return self.jobs.list(project, parent_job_id=parent_job_id)

    def delete_job(self, project: str, job_id: str) -> None:
        self.jobs.delete(project, job_id)

    def register_job(self, job: Job) -> Job:
        return self.jobs.register(job)

    def run_job(self, job: Job) -> Job:
        """Run a registered job inserted without data (query, copy; others fail as in BigQuery's absence)."""
        return self.job_runner.run(job)

    def run_query_job(self, job: Job) -> Job:
        """Execute a QUERY job's configuration; failures are recorded on the job (HTTP 200 + errorResult)."""
        return self.job_runner.run_query(job)

    def run_load_job(self, job: Job, data: bytes) -> Job:
        """Execute a LOAD job over uploaded bytes; failures are recorded on the job."""
        return self.job_runner.run_load(job, data)
