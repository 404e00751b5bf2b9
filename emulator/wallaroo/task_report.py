"""A plain-text account of an emulator's orchestrations, tasks and task runs, with the virtual time.

What a failing test needs to see when ``assert run.status == "success"`` fails: each
orchestration (name, id, sha, file, status, and why packaging failed), each task (name, id,
type, status) and each of its runs (id, status, virtual start and end, error) with the tail of
the log of every run that did not succeed, the traceback included. The pytest plugin adds it to
the report of a failed test that used an emulator; ``describe(emu)`` is usable on its own.
The records are read from the emulator's orchestration and task stores (never created here).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

#: Log lines shown per run that did not succeed (from its last traceback on, when that is closer).
LOG_TAIL = 40
#: Most recent runs listed per task.
RUNS_SHOWN = 10

_TRACEBACK = "Traceback (most recent call last):"


def _iso(instant: _dt.datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _tail(lines: list[str], limit: int) -> tuple[list[str], int]:
    """The lines to show: from the last traceback on if that fits in ``2 * limit``, else the last ``limit``."""
    start = max(len(lines) - limit, 0)
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].endswith(_TRACEBACK):
            if len(lines) - index <= 2 * limit:
                start = min(start, index)
            break
    return lines[start:], start


def _logs(tasks: Any, run: Any) -> list[str]:
    """A run's log lines through the store's ``logs(run_id)`` (the public reading, wherever runs execute)."""
    try:
        return list(tasks.logs(run.run_id))
    except Exception:  # noqa: BLE001 - fall back to the record's own lines
        return list(getattr(run, "logs", []) or [])


def describe(emu: Any, *, log_tail: int = LOG_TAIL, runs_shown: int = RUNS_SHOWN) -> str:
    """The orchestrations, tasks and runs of ``emu`` with the virtual time, as indented text."""
    clock = emu.clock
    out = [
        f"virtual time {_iso(clock.now())} (the clock started at {_iso(clock.start)}); "
        f"SDK profile {emu.sdk}, id seed {emu.seed}"
    ]
    backend = getattr(emu, "wallaroo", None)
    orchestrations = getattr(backend, "orchestrations", None)
    tasks = getattr(backend, "tasks", None)
    records = orchestrations.list() if orchestrations is not None else []
    if not records:
        out.append("no orchestrations were uploaded")
        return "\n".join(out) + "\n"
    all_tasks = tasks.list(killed=True) if tasks is not None else []
    for orch in records:
        out.append(
            f"orchestration {orch.name!r} (id {orch.id}, sha {orch.sha}, file {orch.file_name}): "
            f"status {orch.status}"
        )
        if orch.error:
            out.append(f"  error: {orch.error}")
            shown, skipped = _tail(list(orch.packaging_log), log_tail)
            if shown:
                out.append(f"  packaging log ({'last ' + str(len(shown)) + ' of ' if skipped else ''}"
                           f"{len(orch.packaging_log)} lines):")
                out.extend(f"    {line}" for line in shown)
        mine = [t for t in all_tasks if t.orch_id == orch.id]
        if not mine:
            out.append("  no tasks")
        for task in mine:
            schedule = f", schedule {task.schedule!r}" if task.schedule is not None else ""
            killed = ", killed" if task.killed else ""
            out.append(
                f"  task {task.name!r} (id {task.id}, type {task.run_type}{schedule}): status {task.status}{killed}"
            )
            runs = list(task.runs)
            if not runs:
                out.append("    no runs yet")
            if len(runs) > runs_shown:
                out.append(f"    ... {len(runs) - runs_shown} earlier runs not shown")
                runs = runs[-runs_shown:]
            for run in runs:
                logs = _logs(tasks, run)
                out.append(
                    f"    run {run.run_id}: {run.status} "
                    f"(from {_iso(run.created_at)} to {_iso(run.updated_at)}, {len(logs)} log lines)"
                )
                if run.error:
                    out.append(f"      error: {run.error}")
                if run.status != "success" and logs:
                    shown, skipped = _tail(logs, log_tail)
                    label = f"last {len(shown)} of {len(logs)}" if skipped else f"{len(logs)}"
                    out.append(f"      log ({label} lines):")
                    out.extend(f"        {line}" for line in shown)
    return "\n".join(out) + "\n"
