"""``wallaroo.task``: tasks of orchestrations (``Task``, ``TaskList``, ``ArbexStatus``).

``ArbexStatus`` resolves to the active emulator's profile: the 2023.2 enum has ``crash_loop,
failed, pending, pending_kill, resource_contention, schedule_error, started, success``; the newest
adds ``killed, paused, pending_pause, pending_resume, timed_out``. ``Task.status()`` returns the
raw string; ``Task.kill()`` returns the enum member ``PENDING_KILL``.

The ``Client`` methods ``list_tasks``, ``get_task_by_id``, ``task_args`` and ``in_task`` delegate
to the functions of this module.
"""

from __future__ import annotations

import datetime as _dt
import os
from enum import Enum
from typing import Any

from emulator.wallaroo import runner
from emulator.wallaroo.sdk.task_run import (
    TaskRun,
    TaskRunList,
    _StrEnum,
    field_table,
    fmt_time,
    is_newest,
    list_table,
    profile_name,
    stores,
)
from emulator.wallaroo.tasks import RUN_STATUS_FILTERS, TaskError

_ARBEX_2023 = {
    "CRASH_LOOP": "crash_loop", "FAILED": "failed", "PENDING": "pending", "PENDING_KILL": "pending_kill",
    "RESOURCE_CONTENTION": "resource_contention", "SCHEDULE_ERROR": "schedule_error", "STARTED": "started",
    "SUCCESS": "success",
}
_ARBEX_NEWEST = {
    **_ARBEX_2023, "KILLED": "killed", "PAUSED": "paused", "PENDING_PAUSE": "pending_pause",
    "PENDING_RESUME": "pending_resume", "TIMED_OUT": "timed_out",
}
_ArbexStatus2023 = _StrEnum("ArbexStatus", _ARBEX_2023, module=__name__)  # type: ignore[call-overload]
_ArbexStatusNewest = _StrEnum(  # type: ignore[call-overload]
    "ArbexStatus", dict(sorted(_ARBEX_NEWEST.items())), module=__name__
)


def arbex_status_enum(profile: str) -> type[Enum]:
    return _ArbexStatus2023 if profile == "2023.2" else _ArbexStatusNewest


# -- workspace helpers (the platform part owns workspaces) ------------------------------------
def current_workspace_id(client: Any) -> int:
    """The client's current workspace id."""
    getter = getattr(client, "get_current_workspace", None)
    if getter is not None:
        ws = getter()
        ws_id = ws.id() if callable(getattr(ws, "id", None)) else getattr(ws, "id", None)
        if ws_id is not None:
            return int(ws_id)
    ws_id = getattr(client, "_current_workspace_id", None)
    if ws_id is None:
        raise RuntimeError("the client has no current workspace")
    return int(ws_id)


def workspace_name(client: Any, workspace_id: int) -> str:
    from emulator.emulator import active_emulator

    emu = getattr(client, "_emulator", None) or active_emulator()
    backend = getattr(emu, "wallaroo", None)
    try:
        return backend.workspace(workspace_id).name  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - unknown workspace or no platform part
        return ""


def workspace_id_by_name(client: Any, name: str) -> int:
    from emulator.emulator import active_emulator

    emu = getattr(client, "_emulator", None) or active_emulator()
    backend = getattr(emu, "wallaroo", None)
    record = backend.workspace_by_name(name) if backend is not None else None
    if record is None:
        raise Exception(f"Workspace with name {name} does not exist.")
    return int(record.id)


def listing_scope(client: Any, call: str, workspace_id: int | None,
                  workspace_name: str | None) -> list[int] | None:
    """Workspace ids a ``list_*`` call covers: 2023.2 the current workspace (and no filter
    arguments: the real 2023.2 signature has none); the newest all workspaces unless one is named."""
    if not is_newest(client):
        if workspace_id is not None or workspace_name is not None:
            bad = "workspace_id" if workspace_id is not None else "workspace_name"
            raise TypeError(f"{call}() got an unexpected keyword argument '{bad}'")
        return [current_workspace_id(client)]
    if workspace_id is not None:
        return [int(workspace_id)]
    if workspace_name is not None:
        return [workspace_id_by_name(client, workspace_name)]
    return None


def owner_id(client: Any) -> str:
    for path in (("_user", "id"), ("auth", "user_id"), ("auth", "_user_id")):
        obj: Any = client
        for attr in path:
            obj = getattr(obj, attr, None)
        if isinstance(obj, str) and obj:
            return obj
    return ""


# -- Task ------------------------------------------------------------------------------------
_TYPES = {"CronJob": "Scheduled Run", "Oneshot": "Temporary Run"}


class Task:
    """A run-once or scheduled task; every accessor reads the platform's current state."""

    def __init__(self, client: Any, task_id: str) -> None:
        self._client = client
        self._id = task_id

    def _record(self) -> Any:
        return stores(self._client)[1].get(self._id)

    def id(self) -> str:
        return self._id

    def name(self) -> Any:
        return self._record().name

    def status(self) -> str:
        """The task's ``ArbexStatus`` value as a string (``pending``, ``started``, ``pending_kill``...)."""
        return self._record().status

    def killed(self) -> bool:
        return self._record().killed

    def input_data(self) -> Any:
        return self._record().json_args

    def workspace_id(self) -> int:
        return self._record().workspace_id

    def schedule(self) -> str | None:
        return self._record().schedule

    def created_at(self) -> _dt.datetime:
        return self._record().created_at

    def updated_at(self) -> _dt.datetime:
        return self._record().updated_at

    def task_type(self) -> str:
        return _TYPES[self._record().run_type]

    def kill(self) -> Enum:
        """Ask the platform to stop the task; returns ``ArbexStatus.PENDING_KILL``."""
        record = stores(self._client)[1].kill(self._id)
        return arbex_status_enum(profile_name(self._client))(record.status)

    def last_runs(self, limit: int | None = None, status: str | None = None) -> TaskRunList:
        """The task's runs, newest first; ``status`` one of all/failure/running/success (+timed_out newest)."""
        allowed = RUN_STATUS_FILTERS[profile_name(self._client)]
        if status is not None and str(status) not in allowed:
            raise ValueError(f"status must be one of {', '.join(allowed)}; got {status!r}")
        runs = stores(self._client)[1].runs(self._id, limit=limit, status=None if status is None else str(status))
        return TaskRunList(TaskRun(self._client, r.run_id, self._id) for r in runs)

    def _row(self) -> list[Any]:
        rec = self._record()
        last = rec.runs[-1].status if rec.runs else "unknown"
        row = [rec.id, rec.name, last, _TYPES[rec.run_type], rec.active, rec.schedule or "-",
               fmt_time(rec.created_at, self._client), fmt_time(rec.updated_at, self._client)]
        if is_newest(self._client):
            row += [rec.workspace_id, workspace_name(self._client, rec.workspace_id)]
        return row

    def _repr_html_(self) -> str:
        names = ["ID", "Name", "Last Run Status", "Type", "Active", "Schedule", "Created At", "Updated At"]
        if is_newest(self._client):
            names += ["Workspace ID", "Workspace Name"]
        return field_table(list(zip(names, self._row())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and other._id == self._id

    def __hash__(self) -> int:
        return hash(("Task", self._id))


class TaskList(list):
    """A list of :class:`Task`, rendered as a table in notebooks."""

    def _repr_html_(self) -> str:
        headers = ["id", "name", "last run status", "type", "active", "schedule", "created at", "updated at"]
        client = self[0]._client if self else None
        if is_newest(client):
            headers += ["workspace id", "workspace name"]
        return list_table(headers, [task._row() for task in self], "(no tasks)")


# -- Client delegations ----------------------------------------------------------------------
def list_tasks(client: Any, killed: bool = False, workspace_id: int | None = None,
               workspace_name: str | None = None) -> TaskList:
    """``Client.list_tasks``: 2023.2 lists the current workspace; the newest all workspaces by default."""
    ids = listing_scope(client, "list_tasks", workspace_id, workspace_name)
    records = stores(client)[1].list(workspace_ids=ids, killed=bool(killed))
    return TaskList(Task(client, r.id) for r in records)


def get_task_by_id(client: Any, task_id: str) -> Task:
    """``Client.get_task_by_id``."""
    try:
        stores(client)[1].get(str(task_id))
    except TaskError:
        from emulator.wallaroo.sdk.object import EntityNotFoundError

        raise EntityNotFoundError("Task", {"task_id": str(task_id)}) from None
    return Task(client, str(task_id))


def task_args(client: Any = None) -> Any:
    """``Client.task_args``: the running task's ``json_args`` (``FileNotFoundError`` outside a task)."""
    return runner.task_args()


def in_task(client: Any = None) -> bool:
    """``Client.in_task``: ``WALLAROO_TASK_ID`` is set, as inside a task run."""
    return "WALLAROO_TASK_ID" in os.environ


def __getattr__(name: str) -> Any:
    if name == "ArbexStatus":
        return arbex_status_enum(profile_name())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
