"""Jobs: QUERY, LOAD and COPY jobs, run to completion when inserted and kept for jobs.get/list.

Jobs are returned DONE. A failing job is still a job: its error is recorded on it (the REST
adapter answers HTTP 200 with ``status.errorResult``, as BigQuery does).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.bigquery.errors import BigQueryError, Duplicate, Invalid, InvalidQuery, NotFound
from emulator.bigquery.query_cache import QueryCache, cache_key
from emulator.bigquery.statements import LOCATION, QueryOutcome

if TYPE_CHECKING:
    from emulator.bigquery.catalog import Catalog
    from emulator.bigquery.queries import Queries, StatementRecord
    from emulator.bigquery.sessions import Session
    from emulator.bigquery.tabledata import TableData
    from emulator.ids import IdGenerator


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
    #: a statement of a script: the script's job id and the statement (text and position)
    parent_job_id: str | None = None
    statement: StatementRecord | None = None
    #: a script: how many statements it ran (its child jobs)
    child_count: int | None = None
    transaction_id: str | None = None
    session_id: str | None = None
    sequence: int = 0  # registration order (ties of creation time)
    #: the request named the location (else the job runs where its datasets are)
    location_requested: bool = False
    #: a query answered from the query cache (:mod:`emulator.bigquery.query_cache`)
    cache_hit: bool = False

    @property
    def total_rows(self) -> int | None:
        if self.outcome is not None and self.outcome.rows is not None:
            return self.outcome.rows.num_rows
        return None


class JobStore:
    """Every job of one backend, by (project, job id), in creation order."""

    def __init__(self, ids: IdGenerator) -> None:
        self.ids = ids
        self._jobs: dict[tuple[str, str], Job] = {}
        self._lock = threading.Lock()
        self._sequence = 0  # of the last registered job (never reused, deletions or not)

    def new_job_id(self) -> str:
        return "job_" + self.ids.hex(16, kind="bigquery-job")

    def register(self, job: Job) -> Job:
        key = (job.project, job.job_id)
        with self._lock:
            if key in self._jobs:
                raise Duplicate(f"Already Exists: Job {job.project}:{LOCATION}.{job.job_id}")
            self._sequence += 1  # O(1): registering used to scan every job of the backend
            job.sequence = self._sequence
            self._jobs[key] = job
        return job

    def get(self, project: str, job_id: str) -> Job:
        job = self._jobs.get((project, job_id))
        if job is None:
            raise NotFound(f"Not found: Job {project}:{LOCATION}.{job_id}")
        return job

    def list(self, project: str, *, parent_job_id: str | None = None) -> list[Job]:
        """The project's jobs, newest first: the child jobs of ``parent_job_id``, else the top-level jobs."""
        with self._lock:
            jobs = [j for (p, _), j in self._jobs.items() if p == project and j.parent_job_id == parent_job_id]
        jobs.sort(key=lambda j: (j.created_ms, j.sequence), reverse=True)
        return jobs

    def delete(self, project: str, job_id: str) -> None:
        job = self.get(project, job_id)
        with self._lock:
            self._jobs.pop((job.project, job.job_id), None)


class JobRunner:
    """Executes job configurations against the backend's parts."""

    def __init__(self, queries: Queries, catalog: Catalog, data: TableData, store: JobStore) -> None:
        self.queries = queries
        self.catalog = catalog
        self.data = data
        self.store = store
        self.cache = QueryCache()

    def run_query(self, job: Job) -> Job:
        """Execute a QUERY job's configuration; failures are recorded on the job (HTTP 200 + errorResult)."""
        config = job.configuration.get("query") or {}
        trace: list[StatementRecord] = []
        try:
            if config.get("useLegacySql") is True:
                raise InvalidQuery("Legacy SQL is not supported by wallaroo-emulator; set use_legacy_sql=False")
            key = cache_key(job.project, job.configuration)
            if key is not None and self._from_cache(job, key):
                return job
            default = config.get("defaultDataset") or {}
            project = default.get("projectId") or job.project
            session = self._session(job, config)
            try:
                outcome = self.queries.execute(
                    config.get("query", ""),
                    project=project if not default else default.get("projectId", job.project),
                    dataset=default.get("datasetId"),
                    parameters=config.get("queryParameters"),
                    parameter_mode=config.get("parameterMode"),
                    dry_run=bool(job.configuration.get("dryRun")),
                    job_id=job.job_id,
                    job_project=job.project,
                    location=job.location if job.location_requested else None,
                    trace=trace,
                    session=session,
                )
                job.location = outcome.location
            finally:
                self._register_children(job, trace)
            destination = config.get("destinationTable")
            if destination and outcome.rows is not None and not job.configuration.get("dryRun"):
                self.data.load_arrow(
                    destination.get("projectId", job.project), destination["datasetId"], destination["tableId"],
                    outcome.rows, write_disposition=config.get("writeDisposition") or "WRITE_EMPTY",
                    create_disposition=config.get("createDisposition") or "CREATE_IF_NEEDED",
                    schema=outcome.schema,
                )
            job.outcome = outcome
            if outcome.statement_type != "SELECT":
                self.catalog.generation += 1  # DML, DDL, scripts: whatever they changed, cached results go
            elif key is not None and not job.configuration.get("dryRun"):
                self.cache.put(key, self.catalog.generation, job.created_ms, outcome)
        except BigQueryError as exc:
            job.error = exc
        return job

    def _from_cache(self, job: Job, key: str) -> bool:
        cached = self.cache.get(key, self.catalog.generation, job.created_ms)
        if cached is None:
            return False
        if cached.location and not job.location_requested:
            job.location = cached.location
        elif cached.location and job.location != cached.location:
            return False  # cached results live in the location of the job that made them
        job.outcome = cached
        job.cache_hit = True
        return True

    def _session(self, job: Job, config: dict[str, Any]) -> Session | None:
        """The session a query job starts (``createSession``) or joins (connection property ``session_id``)."""
        properties = {p.get("key"): p.get("value") for p in config.get("connectionProperties") or []
                      if isinstance(p, dict)}
        session_id = properties.get("session_id")
        if config.get("createSession"):
            if session_id:
                raise Invalid("A query cannot both create a session and join session " + str(session_id))
            session = self.queries.sessions.create(job.project, job.location)
        elif session_id:
            session = self.queries.sessions.get(str(session_id))
        else:
            return None
        job.session_id = session.session_id
        return session

    def _register_children(self, job: Job, trace: list[StatementRecord]) -> None:
        """One child job per statement a script ran (BigQuery ids: ``script_job_<hex>_<n>``)."""
        if not trace:
            return
        stem = "script_job_" + self.store.ids.hex(16, kind="bigquery-script-job")
        query_config = {k: v for k, v in (job.configuration.get("query") or {}).items()
                        if k in ("defaultDataset", "useLegacySql", "priority")}
        for index, record in enumerate(trace):
            child = Job(project=job.project, job_id=f"{stem}_{index}", job_type="QUERY",
                        configuration={"query": {**query_config, "query": record.text}}, created_ms=job.created_ms,
                        user_email=job.user_email, location=job.location, error=record.error,
                        outcome=record.outcome, parent_job_id=job.job_id, statement=record,
                        transaction_id=record.transaction_id)
            self.store.register(child)
        job.child_count = len(trace)

    def run_copy(self, job: Job) -> Job:
        config = job.configuration["copy"]
        sources = config.get("sourceTables") or ([config["sourceTable"]] if config.get("sourceTable") else [])
        dest = config.get("destinationTable") or {}
        self._locate(job, sources[0] if sources else dest)
        try:
            if not sources or not dest:
                raise Invalid("Copy job needs source and destination tables")
            total = 0
            disposition = config.get("writeDisposition") or "WRITE_EMPTY"
            for index, src in enumerate(sources):
                arrow, schema, _ = self.data.read_rows(src.get("projectId", job.project), src["datasetId"],
                                                       src["tableId"])
                total += self.data.load_arrow(dest.get("projectId", job.project), dest["datasetId"], dest["tableId"],
                                              arrow, write_disposition=disposition if index == 0 else "WRITE_APPEND",
                                              create_disposition=config.get("createDisposition") or "CREATE_IF_NEEDED",
                                              schema=schema)
            job.output_rows = total
        except BigQueryError as exc:
            job.error = exc
        return job

    def run_load(self, job: Job, data: bytes) -> Job:
        """A LOAD job with uploaded data (multipart or resumable upload)."""
        from emulator.bigquery.loads import run_load

        destination = job.configuration["load"].get("destinationTable") or {}
        self._locate(job, destination)
        try:
            job.output_rows = run_load(self.catalog, self.data, job.configuration["load"], data, job.project)
        except BigQueryError as exc:
            job.error = exc
        return job

    def _locate(self, job: Job, table: dict[str, Any]) -> None:
        """A job that names no location runs where its table's dataset is."""
        if job.location_requested or not table.get("datasetId"):
            return
        meta = self.catalog.dataset(table.get("projectId") or job.project, table["datasetId"])
        if meta is not None:
            job.location = meta.location

    def run(self, job: Job) -> Job:
        """jobs.insert without uploaded data."""
        if job.job_type == "QUERY":
            return self.run_query(job)
        if job.job_type == "COPY":
            return self.run_copy(job)
        if job.job_type == "LOAD":
            job.error = Invalid("Load jobs from Cloud Storage URIs are not supported by wallaroo-emulator; use "
                                "load_table_from_file/dataframe/json")
        else:
            job.error = Invalid("Extract jobs are not supported by wallaroo-emulator")
        return job
