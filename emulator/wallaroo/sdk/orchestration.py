"""``wallaroo.orchestration``: uploaded orchestrations (``Orchestration``, ``OrchestrationList``).

The ``Client`` methods ``upload_orchestration`` and ``list_orchestrations`` delegate to the
functions of this module. Errors are the SDK's:

* neither ``path`` nor ``bytes_buffer`` → :class:`OrchestrationMissingFile`;
* an upload the platform refuses (not a zip, no ``main.py``, unsafe members, too large, several
  ``requirements.txt``) → :class:`OrchestrationUploadFailed`. In the 2023.2 profile the message is
  the SDK's fixed ``"Orchestration upload failed: Internal service error"``, with the platform's
  reason as the exception's ``reason`` attribute and ``__cause__``; the newest adds the reason to
  the message;
* a run request the platform refuses (orchestration not ready, bad schedule, bad arguments) →
  :class:`OrchestrationDeployOneshotFailed` with ``"Orchestration deploy failed: <body>"``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any

from emulator.wallaroo.orchestrations import OrchestrationError, OrchestrationNotFound
from emulator.wallaroo.profiles import newest_only
from emulator.wallaroo.sdk.task import (
    Task,
    TaskList,
    current_workspace_id,
    listing_scope,
    owner_id,
    workspace_name,
)
from emulator.wallaroo.sdk.task_run import (
    _StrEnum,
    field_table,
    fmt_time,
    is_newest,
    list_table,
    stores,
)

OrchestrationStatus = _StrEnum(  # type: ignore[call-overload]
    "OrchestrationStatus",
    {"ERROR": "error", "PACKAGING": "packaging", "PENDING_PACKAGING": "pending_packaging", "READY": "ready",
     "UNINITIALIZED": "uninitialized"},
    module=__name__,
)


class OrchestrationUploadFailed(Exception):
    """The platform did not accept an orchestration upload."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class OrchestrationMissingFile(Exception):
    """``upload_orchestration`` was given neither ``path`` nor ``bytes_buffer``."""

    def __init__(self) -> None:
        super().__init__("Either bytes_buffer or path must be provided to upload an orchestration")


class OrchestrationDeployOneshotFailed(Exception):
    """The platform refused to create a task from an orchestration."""

    def __init__(self, body: str) -> None:
        super().__init__(f"Orchestration deploy failed: {body}")
        self.body = body


def _error_body(exc: OrchestrationError) -> str:
    return json.dumps({"msg": exc.message, "code": exc.status})


class Orchestration:
    """An uploaded orchestration; ``status()`` asks the platform on every call."""

    def __init__(self, client: Any, orchestration_id: str) -> None:
        self._client = client
        self._id = orchestration_id

    def _record(self) -> Any:
        return stores(self._client)[0].get(self._id)

    def id(self) -> str:
        return self._id

    def name(self) -> str | None:
        return self._record().name

    def file_name(self) -> str:
        return self._record().file_name

    def sha(self) -> str:
        return self._record().sha

    def status(self) -> str:
        """``pending_packaging``, ``packaging``, ``ready`` or ``error``."""
        return self._record().status

    def workspace_id(self) -> int:
        return self._record().workspace_id

    def owner_id(self) -> str:
        return self._record().owner_id

    def task_id(self) -> str:
        return self._record().task_id

    def created_at(self) -> _dt.datetime:
        return self._record().created_at

    def updated_at(self) -> _dt.datetime:
        return self._record().updated_at

    def packaging_log(self) -> list[str]:
        """Emulator extra: what packaging said about ``requirements.txt`` (nothing is installed)."""
        return list(self._record().packaging_log)

    # -- tasks -----------------------------------------------------------------------------
    def run_once(self, name: Any, json_args: Any = {}, timeout: int | None = None,  # noqa: B006 - SDK signature
                 debug: bool = False) -> Task:
        """Run the orchestration once as a task (launches after a short virtual delay)."""
        try:
            record = stores(self._client)[1].run_once(self._id, name=name, json_args=json_args,
                                                      timeout=timeout, debug=debug)
        except OrchestrationError as exc:
            raise OrchestrationDeployOneshotFailed(_error_body(exc)) from None
        return Task(self._client, record.id)

    def run_scheduled(self, name: Any, schedule: str, json_args: Any = {},  # noqa: B006 - SDK signature
                      timeout: int | None = None, debug: bool = False) -> Task:
        """Run the orchestration at every instant of a 5-field cron ``schedule`` (UTC)."""
        try:
            record = stores(self._client)[1].run_scheduled(self._id, name=name, schedule=schedule,
                                                           json_args=json_args, timeout=timeout, debug=debug)
        except OrchestrationError as exc:
            raise OrchestrationDeployOneshotFailed(_error_body(exc)) from None
        return Task(self._client, record.id)

    @newest_only
    def run_continuously(self, name: Any, json_args: Any = {}, debug: bool = False) -> Task:  # noqa: B006
        """Newest SDK only. Continuous (service) tasks are not emulated: refused with a clear error."""
        raise OrchestrationDeployOneshotFailed(json.dumps({
            "msg": "run_continuously is not emulated: in-process runs cannot serve forever; "
                   "use run_once or run_scheduled", "code": 501}))

    def list_tasks(self) -> TaskList:
        """Tasks of this orchestration (2023.2: every task of its SHA; newest: of this orchestration)."""
        tasks = stores(self._client)[1]
        if is_newest(self._client):
            records = tasks.list(orch_id=self._id, workspace_ids=[self.workspace_id()])
        else:
            records = tasks.by_orch_sha(self.sha())
        return TaskList(Task(self._client, r.id) for r in records)

    # -- rendering -------------------------------------------------------------------------
    def _cells(self, short_sha: bool) -> list[Any]:
        rec = self._record()
        sha = f"{rec.sha[:6]}...{rec.sha[-6:]}" if short_sha else rec.sha
        return [rec.id, rec.name, rec.file_name, sha, rec.status,
                fmt_time(rec.created_at, self._client), fmt_time(rec.updated_at, self._client)]

    def _repr_html_(self) -> str:
        names = ["ID", "Name", "File Name", "SHA", "Status", "Created At", "Updated At"]
        cells = self._cells(short_sha=False)
        if is_newest(self._client):
            ws = self.workspace_id()
            names += ["Workspace ID", "Workspace Name"]
            cells += [ws, workspace_name(self._client, ws)]
        return field_table(list(zip(names, cells)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Orchestration) and other._id == self._id

    def __hash__(self) -> int:
        return hash(("Orchestration", self._id))


class OrchestrationList(list):
    """A list of :class:`Orchestration`, rendered as a table in notebooks."""

    def _repr_html_(self) -> str:
        client = self[0]._client if self else None
        headers = ["id", "name", "status", "filename", "sha", "created at", "updated at"]
        newest = is_newest(client)
        if newest:
            headers += ["workspace id", "workspace name"]
        rows = []
        for orch in self:
            ident, name, file_name, sha, status, created, updated = orch._cells(short_sha=True)
            row = [ident, name, status, file_name, sha, created, updated]
            if newest:
                ws = orch.workspace_id()
                row += [ws, workspace_name(orch._client, ws)]
            rows.append(row)
        return list_table(headers, rows, "(no orchestrations)")


# -- Client delegations ----------------------------------------------------------------------
def _read_buffer(buffer: Any) -> bytes:
    if isinstance(buffer, bytes | bytearray | memoryview):
        return bytes(buffer)
    read = getattr(buffer, "read", None)
    if read is not None:
        data = read()
        return data.encode() if isinstance(data, str) else bytes(data)
    raise OrchestrationUploadFailed("Orchestration upload failed: Internal service error",
                                    reason=f"bytes_buffer must be bytes or a binary file, got {type(buffer).__name__}")


def upload_orchestration(client: Any, bytes_buffer: Any = None, path: str | os.PathLike[str] | None = None,
                         name: str | None = None, file_name: str | None = None) -> Orchestration:
    """``Client.upload_orchestration``: upload a zip into the client's current workspace."""
    if path is None and bytes_buffer is None:
        raise OrchestrationMissingFile()
    if path is not None:
        with open(path, "rb") as handle:
            data = handle.read()
        upload_name = os.path.basename(os.fspath(path))
    else:
        data = _read_buffer(bytes_buffer)
        upload_name = file_name or "_"
    orchestrations = stores(client)[0]
    try:
        record = orchestrations.upload(data, workspace_id=current_workspace_id(client), name=name,
                                       file_name=upload_name, owner_id=owner_id(client))
    except OrchestrationError as exc:
        if is_newest(client):
            message = f"Orchestration upload failed: Internal service error: {_error_body(exc)}"
        else:
            message = "Orchestration upload failed: Internal service error"
        raise OrchestrationUploadFailed(message, reason=exc.message) from exc
    return Orchestration(client, record.id)


def list_orchestrations(client: Any, workspace_id: int | None = None,
                        workspace_name: str | None = None) -> OrchestrationList:
    """``Client.list_orchestrations``: 2023.2 lists the current workspace; the newest all by default."""
    ids = listing_scope(client, "list_orchestrations", workspace_id, workspace_name)
    records = stores(client)[0].list(workspace_ids=ids)
    return OrchestrationList(Orchestration(client, r.id) for r in records)


def get_orchestration(client: Any, orchestration_id: str) -> Orchestration:
    """An :class:`Orchestration` by id (``EntityNotFoundError`` if unknown)."""
    try:
        stores(client)[0].get(orchestration_id)
    except OrchestrationNotFound:
        from emulator.wallaroo.sdk.object import EntityNotFoundError

        raise EntityNotFoundError("Orchestration", {"id": orchestration_id}) from None
    return Orchestration(client, orchestration_id)


__all__ = [
    "Orchestration", "OrchestrationList", "OrchestrationStatus", "OrchestrationUploadFailed",
    "OrchestrationMissingFile", "OrchestrationDeployOneshotFailed", "upload_orchestration",
    "list_orchestrations", "get_orchestration",
]
