"""Resource names of the Storage Read API: parents, tables, sessions and streams.

``projects/{project}`` (the billing project that owns a session),
``projects/{project}/datasets/{dataset}/tables/{table}``,
``projects/{project}/locations/{location}/sessions/{session}`` and
``…/sessions/{session}/streams/{stream}``, and a query job's default stream
``projects/{project}/locations/{location}/jobs/{job}/streams/_default`` (what ``ARROW``-format
query results are read from). Malformed names are ``INVALID_ARGUMENT``.
"""

from __future__ import annotations

import re

from google.api_core import exceptions as api_exceptions

#: Location of every session (datasets live in the US multi-region here).
LOCATION = "us"

_PARENT = re.compile(r"projects/([^/]+)")
_TABLE = re.compile(r"projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)")
_STREAM = re.compile(r"(projects/[^/]+/locations/[^/]+/sessions/[^/]+)/streams/([^/]+)")
_JOB_STREAM = re.compile(r"projects/([^/]+)/locations/([^/]+)/jobs/([^/]+)/streams/_default")


def parse_parent(parent: str) -> str:
    match = _PARENT.fullmatch(parent or "")
    if match is None:
        raise api_exceptions.InvalidArgument(
            f"request failed: invalid parent {parent!r}: expected projects/{{project_id}}")
    return match.group(1)


def parse_table(name: str) -> tuple[str, str, str]:
    match = _TABLE.fullmatch(name or "")
    if match is None:
        raise api_exceptions.InvalidArgument(
            f"request failed: invalid table {name!r}: expected projects/{{project}}/datasets/{{dataset}}/tables/{{table}}")
    project, dataset, table = match.groups()
    if "@" in table or "$" in table:
        raise api_exceptions.InvalidArgument(
            f"request failed: table decorators are not supported by wallaroo-emulator: {name!r}")
    return project, dataset, table


def parse_stream(name: str) -> tuple[str, str]:
    """(session name, stream id) of a stream name."""
    match = _STREAM.fullmatch(name or "")
    if match is None:
        raise api_exceptions.InvalidArgument(
            f"there was an error operating on '{name}': invalid read stream name: expected "
            "projects/{project}/locations/{location}/sessions/{session}/streams/{stream}")
    return match.group(1), match.group(2)


def parse_job_stream(name: str) -> tuple[str, str] | None:
    """(project, job id) of a job's default stream name, or ``None`` for any other name."""
    match = _JOB_STREAM.fullmatch(name or "")
    return (match.group(1), match.group(3)) if match else None
