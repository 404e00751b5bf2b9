"""BigQuery's cached query results: a repeated query answers from the previous job's results.

Mirrors the documented rules (cloud.google.com/bigquery/docs/cached-results): results are cached
when ``useQueryCache`` is not false (the default), for 24 hours of the virtual clock, and reused
by a later query of the same project with the same text, default dataset and parameters while no
table changed. Not cached: dry runs, queries writing a destination table, scripts, DML and DDL,
queries in a session, and queries calling non-deterministic functions (``CURRENT_TIMESTAMP``,
``RAND``, ``GENERATE_UUID``, ``SESSION_USER``…). A hit is a new job whose statistics say
``cacheHit: true``, with the earlier job's rows and schema.

"No table changed" is conservative: any change to any table's data or metadata (the catalog's
``generation``) invalidates every entry, where BigQuery tracks only the tables a query read.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.bigquery.statements import QueryOutcome

TTL_MS = 24 * 3600 * 1000

_NON_DETERMINISTIC = re.compile(
    r"\b(CURRENT_(?:TIMESTAMP|DATE|TIME|DATETIME|USER)|NOW|RAND|GENERATE_UUID|SESSION_USER|NET\.\w+|"
    r"INFORMATION_SCHEMA)\b|@@",
    re.IGNORECASE,
)


def cache_key(project: str, job_configuration: dict[str, Any]) -> str | None:
    """The cache key of a query job's configuration, or None when BigQuery would not cache it."""
    config = job_configuration.get("query") or {}
    if config.get("useQueryCache") is False or job_configuration.get("dryRun"):
        return None
    if config.get("destinationTable") or config.get("createSession") or config.get("connectionProperties"):
        return None
    text = config.get("query") or ""
    if not isinstance(text, str) or _NON_DETERMINISTIC.search(text):
        return None
    return json.dumps([project, text, config.get("defaultDataset"), config.get("queryParameters"),
                       config.get("parameterMode")], sort_keys=True, default=str)


class QueryCache:
    """Outcomes of cacheable SELECT queries, by :func:`cache_key`."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, int, QueryOutcome]] = {}

    def get(self, key: str, generation: int, now_ms: int) -> QueryOutcome | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_generation, expires_ms, outcome = entry
        if stored_generation != generation or now_ms >= expires_ms:
            del self._entries[key]
            return None
        return dataclasses.replace(outcome)

    def put(self, key: str, generation: int, now_ms: int, outcome: QueryOutcome) -> None:
        if outcome.statement_type != "SELECT" or outcome.rows is None:
            return
        self._entries[key] = (generation, now_ms + TTL_MS, dataclasses.replace(outcome))
