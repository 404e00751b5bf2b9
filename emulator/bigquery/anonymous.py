"""Anonymous destination tables: where BigQuery says a query job's results live.

Every query job that returns rows names a ``configuration.query.destinationTable``; without an
explicit destination BigQuery picks an *anonymous* table in a hidden dataset of the project
(``_`` and 40 hex digits) named ``anon`` and hex digits. The client reads that table with the
BigQuery Storage Read API when it converts results to Arrow or pandas.

Here the anonymous table is the job's own result (``job.outcome.rows``), never copied into
DuckDB: its name encodes the job id (``anon`` + hex of the id), so resolving it back is a
lookup of the job, without any registry. The hidden dataset is the same for every job of a
project. Results are readable while the job exists (BigQuery keeps them about 24 hours).

The destination is only advertised to clients that can reach the Storage Read API: requests
served in-process (:func:`emulator.transport.serving_in_process`) while the emulator owning the
backend is active, since its Storage Read API is then answered in-process. A client in another
process talking to the 127.0.0.1 server would otherwise build its Storage client for Google's
endpoint and fail; it keeps reading results over REST.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.bigquery.backend import BigQueryBackend, Job

TABLE_PREFIX = "anon"


def dataset_id(project: str) -> str:
    """The hidden dataset holding a project's anonymous result tables."""
    return "_" + hashlib.sha1(f"wallaroo-emulator:{project}".encode()).hexdigest()


def table_id(job_id: str) -> str:
    """The anonymous table holding the results of ``job_id``."""
    return TABLE_PREFIX + job_id.encode("utf-8").hex()


def destination(job: Job) -> dict[str, str] | None:
    """The anonymous ``destinationTable`` of a query job that produced rows, else ``None``."""
    outcome = job.outcome
    if job.job_type != "QUERY" or job.error is not None or outcome is None or outcome.rows is None:
        return None
    config = job.configuration.get("query") or {}
    if config.get("destinationTable") or job.configuration.get("dryRun"):
        return None
    return {"projectId": job.project, "datasetId": dataset_id(job.project), "tableId": table_id(job.job_id)}


def advertised_destination(backend: BigQueryBackend, job: Job) -> dict[str, str] | None:
    """:func:`destination`, when the requesting client can read it with the Storage Read API."""
    from emulator.emulator import active_emulator
    from emulator.transport import serving_in_process

    active = active_emulator()
    if active is None or active.bigquery is not backend or not serving_in_process():
        return None
    return destination(job)


def is_anonymous(dataset: str) -> bool:
    return dataset.startswith("_") and len(dataset) == 41


def job_for(backend: BigQueryBackend, project: str, dataset: str, table: str) -> Job | None:
    """The job whose anonymous result table is ``project.dataset.table``, if there is one."""
    if dataset != dataset_id(project) or not table.startswith(TABLE_PREFIX):
        return None
    try:
        job_id = bytes.fromhex(table[len(TABLE_PREFIX):]).decode("utf-8")
    except ValueError:
        return None
    from emulator.bigquery.errors import BigQueryError

    try:
        job: Any = backend.get_job(project, job_id)
    except BigQueryError:
        return None
    return job if destination(job) is not None else None
