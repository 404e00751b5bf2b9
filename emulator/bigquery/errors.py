"""BigQuery errors raised by the backend, mapped once by the REST adapter to BigQuery's envelope.

Each carries the HTTP status, the ``reason`` BigQuery puts in ``errors[].reason`` (the real
client maps it to ``NotFound``, ``BadRequest``, ``Conflict``, ``Forbidden``...) and a message
following BigQuery's own patterns (``Not found: Table p:d.t``, ``Already Exists: Dataset p:d``).
"""

from __future__ import annotations


class BigQueryError(Exception):
    """Base class: ``status`` (HTTP), ``reason`` (BigQuery error reason), ``message``."""

    status = 400
    reason = "invalid"
    grpc_status = "INVALID_ARGUMENT"

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def to_error(self) -> dict[str, str]:
        error = {"message": self.message, "domain": "global", "reason": self.reason}
        if self.location:
            error["location"] = self.location
            error["locationType"] = "other"
        return error


class Invalid(BigQueryError):
    status, reason, grpc_status = 400, "invalid", "INVALID_ARGUMENT"


class InvalidQuery(BigQueryError):
    status, reason, grpc_status = 400, "invalidQuery", "INVALID_ARGUMENT"

    def __init__(self, message: str, *, location: str | None = "query") -> None:
        super().__init__(message, location=location)


class NotFound(BigQueryError):
    status, reason, grpc_status = 404, "notFound", "NOT_FOUND"


class Duplicate(BigQueryError):
    status, reason, grpc_status = 409, "duplicate", "ALREADY_EXISTS"


class AccessDenied(BigQueryError):
    status, reason, grpc_status = 403, "accessDenied", "PERMISSION_DENIED"


class ResourcesExceeded(BigQueryError):
    status, reason, grpc_status = 400, "resourcesExceeded", "INVALID_ARGUMENT"


class PayloadTooLarge(BigQueryError):
    """An oversized request: BigQuery answers 400 "Request payload size exceeds the limit: N bytes."."""

    status, reason, grpc_status = 400, "invalid", "INVALID_ARGUMENT"


class ResourceInUse(BigQueryError):
    """A resource that cannot be removed while it holds others (a dataset with tables)."""

    status, reason, grpc_status = 400, "resourceInUse", "FAILED_PRECONDITION"


def table_not_found(project: str, dataset: str, table: str, location: str | None = None) -> NotFound:
    """``Not found: Table p:d.t``; queries add `` was not found in location L`` (the job's location)."""
    suffix = f" was not found in location {location}" if location else ""
    return NotFound(f"Not found: Table {project}:{dataset}.{table}{suffix}")


def dataset_not_found(project: str, dataset: str, location: str | None = None) -> NotFound:
    """``Not found: Dataset p:d``; queries add `` was not found in location L`` (the job's location)."""
    suffix = f" was not found in location {location}" if location else ""
    return NotFound(f"Not found: Dataset {project}:{dataset}{suffix}")


def table_access_denied(project: str, dataset: str, table: str) -> AccessDenied:
    """What a query gets for a table of another project whose dataset it cannot see (or that does not exist)."""
    name = f"{project}:{dataset}.{table}"
    return AccessDenied(f"Access Denied: Table {name}: User does not have permission to query table {name}, or "
                        "perhaps it does not exist.")
