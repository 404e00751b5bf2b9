"""``wallaroo.task_run``: runs of a task and their logs (``TaskRun``, ``TaskRunList``, ``TaskRunLogs``).

Also holds the small HTML and time helpers the orchestration/task facade modules share.
``TaskStatus`` (run statuses) differs per profile: the newest adds ``killed`` and ``timed_out``;
``wallaroo.task_run.TaskStatus`` resolves to the active emulator's profile.
"""

from __future__ import annotations

import datetime as _dt
import html
from enum import Enum, StrEnum
from typing import Any

from emulator.emulator import active_emulator

DEFAULT_TIME_FORMAT = "%Y-%d-%b %H:%M:%S"


class _StrEnum(StrEnum):
    """String-valued enum (``str(member)`` is its value), as the SDK's generated enums."""


_TaskStatus2023 = _StrEnum(  # type: ignore[call-overload]
    "TaskStatus", {"FAILURE": "failure", "RUNNING": "running", "SUCCESS": "success", "UNKNOWN": "unknown"},
    module=__name__,
)
_TaskStatusNewest = _StrEnum(  # type: ignore[call-overload]
    "TaskStatus",
    {"FAILURE": "failure", "KILLED": "killed", "RUNNING": "running", "SUCCESS": "success",
     "TIMED_OUT": "timed_out", "UNKNOWN": "unknown"},
    module=__name__,
)


def profile_name(client: Any = None) -> str:
    """``"2023.2"`` or ``"2026.1"``: the client's profile, else the active emulator's."""
    profile = getattr(client, "_profile", None)
    name = getattr(profile, "name", None)
    if isinstance(name, str):
        return name
    emu = active_emulator()
    return getattr(emu, "sdk", "2023.2") if emu is not None else "2023.2"


def is_newest(client: Any = None) -> bool:
    return profile_name(client) != "2023.2"


def task_status_enum(profile: str) -> type[Enum]:
    return _TaskStatus2023 if profile == "2023.2" else _TaskStatusNewest


def stores(client: Any = None) -> tuple[Any, Any]:
    """The active emulator's orchestration and task stores."""
    from emulator.wallaroo.tasks import stores_for

    emu = getattr(client, "_emulator", None) or active_emulator()
    if emu is None:
        raise RuntimeError("no wallaroo emulator is active: enter an emulator.Emulator() first")
    return stores_for(emu)


def time_format(client: Any) -> str:
    fmt = getattr(client, "_time_format", None) or getattr(client, "time_format", None)
    return fmt if isinstance(fmt, str) else DEFAULT_TIME_FORMAT


def fmt_time(instant: _dt.datetime, client: Any) -> str:
    return instant.strftime(time_format(client))


def field_table(rows: list[tuple[str, Any]]) -> str:
    """A two-column Field/Value HTML table, as the SDK renders single objects."""
    body = "".join(
        f"\n  <tr>\n    <td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td>\n  </tr>" for k, v in rows
    )
    return f"<table>\n  <tr>\n    <th>Field</th>\n    <th>Value</th>\n  </tr>{body}\n</table>"


def list_table(headers: list[str], rows: list[list[Any]], empty: str) -> str:
    """A one-row-per-item HTML table, as the SDK renders lists (``empty`` when there are none)."""
    if not rows:
        return empty
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


class TaskRunLogs(list):
    """The log lines of a run (``list[str]``), rendered as ``<pre><code>`` in notebooks."""

    def __init__(self, lines: list[str], client: Any = None) -> None:
        super().__init__(lines)
        self._client = client

    def _repr_html_(self) -> str:
        if not self:
            return "(no logs yet)"
        out = []
        for line in self:
            stamp, _, rest = line.partition(" ")
            _, _, text = rest.partition(" F")
            try:
                when = _dt.datetime.fromisoformat(stamp.rstrip("Z")[:26])
                shown = when.strftime(time_format(self._client))
            except ValueError:
                shown = stamp
            out.append(html.escape(f"{shown}{text}"))
        return "<pre><code>" + "\n".join(out) + "</code></pre>"


class TaskRun:
    """One run of a task: its status and logs, read live from the platform."""

    def __init__(self, client: Any, run_id: str, task_id: str | None = None) -> None:
        self._client = client
        self._run_id = run_id
        self._task_id = task_id

    def _record(self) -> Any:
        return stores(self._client)[1].run(self._run_id)

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def pod_id(self) -> str:
        return self._record().pod_id

    @property
    def task(self) -> str:
        return self._task_id or self._record().task_id

    @property
    def status(self) -> str:
        return self._record().status

    @property
    def created_at(self) -> _dt.datetime:
        return self._record().created_at

    @property
    def updated_at(self) -> _dt.datetime:
        return self._record().updated_at

    def logs(self, limit: int | None = None) -> TaskRunLogs:
        """The run's log lines (the last ``limit`` of them when given)."""
        return TaskRunLogs(stores(self._client)[1].logs(self._run_id, limit), self._client)

    def _repr_html_(self) -> str:
        rec = self._record()
        return field_table([
            ("Task", rec.task_id), ("Pod ID", rec.pod_id), ("Status", rec.status),
            ("Created At", fmt_time(rec.created_at, self._client)),
            ("Updated At", fmt_time(rec.updated_at, self._client)),
        ])


class TaskRunList(list):
    """A list of :class:`TaskRun`, rendered as a table in notebooks."""

    def _repr_html_(self) -> str:
        rows = []
        for run in self:
            rec = run._record()
            rows.append([rec.task_id, rec.pod_id, rec.status, fmt_time(rec.created_at, run._client),
                         fmt_time(rec.updated_at, run._client)])
        return list_table(["task id", "pod id", "status", "created at", "updated at"], rows, "(no task runs)")


def __getattr__(name: str) -> Any:
    if name == "TaskStatus":
        return task_status_enum(profile_name())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
