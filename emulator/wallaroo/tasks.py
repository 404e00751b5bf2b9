"""Tasks and task runs: run-once and scheduled tasks of orchestrations, driven by the virtual clock.

Lifecycle (``ArbexStatus`` values):

* A new task is ``pending``. :attr:`TaskTimings.launch_seconds` later it is ``started`` and, for
  a run-once task, its one run executes at that instant. A task stays ``started`` for as long
  as it is active, also after its run ended: the outcome is carried by the runs (``running``,
  then ``success``/``failure``, newest profile also ``timed_out``/``killed``), as the platform's
  list output shows (a finished run-once task is still active with last run ``success``).
* A scheduled task fires one run at every instant of its 5-field cron schedule (UTC, through
  croniter) strictly after its creation. Every instant the clock passes fires, in order, with
  the clock set to that instant: **catch-up is complete** (advancing the clock by a week runs a
  week of runs), because the emulated platform was up during that virtual time; Kubernetes'
  ``startingDeadlineSeconds``/100-missed-schedules rule is not emulated. Runs of *other* tasks
  that fall due while a run sleeps start inside that sleep, at their instant (concurrent runs).
  An instant of a task whose *own* previous run is still executing is skipped and recorded in
  ``TaskRecord.skipped`` (as a CronJob with ``concurrencyPolicy: Forbid``): in-process runs can
  only nest, and a schedule overlapping itself would nest without end.
* ``kill()`` makes the task ``pending_kill`` (still ``killed: False``) and cancels its future
  launches and runs; :attr:`TaskTimings.kill_seconds` later it is ``killed: True`` and leaves
  ``list(killed=False)``. Its status then reads ``killed`` in the newest profile and stays
  ``pending_kill`` in 2023.2, whose enum has no ``killed`` (its generated parser would reject it).
* A run's timeout (``timeout`` seconds of virtual time) stops it at that instant; see
  :mod:`emulator.wallaroo.runner` for the run statuses per profile.
* A run executes to its end when it starts, inside whatever advanced the clock to its instant
  (a ``time.sleep`` of the notebook, ``clock.advance``...). The virtual time its code sleeps
  passes for everyone: a notebook's ``time.sleep(5)`` during which a 60-second run starts
  returns 60 seconds later. Work due meanwhile (packaging, deployments, other tasks' runs) runs
  at its own instant.

Guesses, documented: ``list(killed=True)`` lists killed tasks *as well as* active ones;
``runs()`` is newest first (``Task.last_runs()[0]`` is the latest run) while a task's
``last_runs`` in its REST shape is oldest first (the SDK reads ``last_runs[-1]`` as the last run
status); ``logs(lines=n)`` returns the last ``n`` lines; a run-once/scheduled request for an
orchestration that is not ``ready`` is refused (400).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

from emulator.clock import Clock, Timer
from emulator.ids import IdGenerator
from emulator.wallaroo import isolated, runner
from emulator.wallaroo.isolated import IsolationSettings
from emulator.wallaroo.orchestrations import IMAGE_PATHS, OrchestrationError, OrchestrationStore

#: ``ArbexStatus`` (task status) values per SDK profile.
TASK_STATUSES = {
    "2023.2": ("crash_loop", "failed", "pending", "pending_kill", "resource_contention", "schedule_error",
               "started", "success"),
    "2026.1": ("crash_loop", "failed", "killed", "paused", "pending", "pending_kill", "pending_pause",
               "pending_resume", "resource_contention", "schedule_error", "started", "success", "timed_out"),
}
#: ``TaskStatus`` (run status) values per SDK profile.
RUN_STATUSES = {
    "2023.2": ("failure", "running", "success", "unknown"),
    "2026.1": ("failure", "killed", "running", "success", "timed_out", "unknown"),
}
#: Accepted ``status`` filters of ``list_task_runs``.
RUN_STATUS_FILTERS = {
    "2023.2": ("all", "failure", "running", "success"),
    "2026.1": ("all", "failure", "running", "success", "timed_out"),
}


#: How task runs execute: each in its own process (the default), or inside the caller's process.
ISOLATED = "isolated"
IN_PROCESS = "in-process"
TASK_RUN_MODES = (ISOLATED, IN_PROCESS)
#: Longest timeout a task accepts (a year of virtual seconds); longer, infinite or NaN is refused.
MAX_TIMEOUT_SECONDS = 365 * 24 * 3600


def check_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`TASK_RUN_MODES`, else ``ValueError``."""
    if mode not in TASK_RUN_MODES:
        raise ValueError(f"task_runs must be one of {', '.join(map(repr, TASK_RUN_MODES))}, got {mode!r}")
    return mode


class TaskError(OrchestrationError):
    """A task request the platform answers with an error (HTTP 400 unless stated)."""


class TaskNotFound(TaskError):
    status = 404


@dataclass
class TaskTimings:
    """Virtual seconds of the platform's task steps (configurable per store)."""

    launch_seconds: float = 10.0
    kill_seconds: float = 30.0


@dataclass
class TaskRunRecord:
    run_id: str
    task_id: str
    status: str
    created_at: _dt.datetime
    updated_at: _dt.datetime
    logs: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def pod_id(self) -> str:
        return self.run_id

    def to_dict(self) -> dict[str, Any]:
        """REST shape of a ``list_task_runs`` item."""
        return {
            "task": self.task_id,
            "run_id": self.run_id,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass
class TaskRecord:
    id: str
    name: Any
    orch_id: str
    orch_sha: str
    workspace_id: int
    owner_id: str
    json_args: Any
    timeout: float | None
    debug: bool
    schedule: str | None
    status: str
    created_at: _dt.datetime
    updated_at: _dt.datetime
    killed: bool = False
    runs: list[TaskRunRecord] = field(default_factory=list)
    skipped: list[_dt.datetime] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list, repr=False)

    @property
    def run_type(self) -> str:
        return "CronJob" if self.schedule is not None else "Oneshot"

    @property
    def active(self) -> bool:
        return not self.killed

    def env(self) -> dict[str, str]:
        return {
            "MINIO_URL": runner.MINIO_URL,
            "ORCH_ID": self.orch_id,
            "ORCH_OWNER_ID": self.owner_id,
            "ORCH_SHA": self.orch_sha,
            "TASK_DEBUG": "true" if self.debug else "false",
            "TASK_ID": self.id,
        }

    def to_dict(self, profile: str = "2023.2") -> dict[str, Any]:
        """REST shape of ``task/get_by_id`` (and of ``task/kill``'s reply)."""
        image, _, tag = IMAGE_PATHS.get(profile, IMAGE_PATHS["2026.1"]).rpartition(":")
        data: dict[str, Any] = {
            "name": self.name,
            "id": self.id,
            "image": image,
            "image_tag": tag,
            "bind_secrets": ["minio"],
            "extra_env_vars": self.env(),
            "auth_init": True,
            "workspace_id": self.workspace_id,
            "flavor": "exec_orch_cron" if self.schedule is not None else "exec_orch_oneshot",
            "reap_threshold_secs": 900,
            "exec_type": "job",
            "status": self.status,
            "input_data": self.json_args,
            "killed": self.killed,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "last_runs": [
                {k: v for k, v in run.to_dict().items() if k != "task"} for run in self.runs
            ],
        }
        if self.schedule is not None:
            data["schedule"] = self.schedule
        if profile != "2023.2":
            data["run_type"] = self.run_type
            data["arch"] = "x86"
            data["ns_prefix"] = None
        return data



def _cron() -> Any:
    """croniter, imported on first use (its import costs ~12 ms: it probes the platform)."""
    import croniter

    return croniter

def validate_schedule(schedule: object) -> str:
    """A 5-field cron expression croniter understands, or :class:`TaskError`."""
    if not isinstance(schedule, str):
        raise TaskError(
            f"invalid schedule {schedule!r}: expected a 5-field cron string such as '*/5 * * * *'"
        )
    fields = schedule.split()
    if len(fields) != 5:
        raise TaskError(
            f"invalid schedule {schedule!r}: a cron schedule has 5 fields (minute hour day-of-month month "
            f"day-of-week), got {len(fields)}"
        )
    if not _cron().croniter.is_valid(schedule):
        raise TaskError(f"invalid schedule {schedule!r}: not a valid cron expression")
    return " ".join(fields)


def cron_instants(schedule: str, after: _dt.datetime, until: _dt.datetime) -> list[_dt.datetime]:
    """Instants of ``schedule`` in ``(after, until]`` (what a scheduled task fires in that window)."""
    it = _cron().croniter(schedule, after)
    out: list[_dt.datetime] = []
    while True:
        instant = it.get_next(_dt.datetime)
        if instant > until:
            return out
        out.append(instant)


class TaskStore:
    """Every task and run of one emulated platform."""

    def __init__(
        self,
        clock: Clock,
        ids: IdGenerator,
        orchestrations: OrchestrationStore,
        *,
        profile: str = "2023.2",
        timings: TaskTimings | None = None,
        emulator: Any = None,
        mode: str = ISOLATED,
        isolation: IsolationSettings | None = None,
    ) -> None:
        self.clock = clock
        self.ids = ids
        self.orchestrations = orchestrations
        self.profile = profile
        self.timings = timings or TaskTimings()
        #: the emulator whose routes and backend an isolated run reaches (a bare namespace in unit tests)
        self.emulator = emulator
        #: ``"isolated"`` (each run its own process, :mod:`emulator.wallaroo.isolated`) or ``"in-process"``
        self.mode = check_mode(mode)
        self.isolation = isolation or IsolationSettings()
        self._tasks: dict[str, TaskRecord] = {}
        self._runs: dict[str, TaskRunRecord] = {}
        self._executing: set[str] = set()

    @property
    def newest(self) -> bool:
        return self.profile != "2023.2"

    # -- creating --------------------------------------------------------------------------
    def _new_task(
        self,
        orch_id: str,
        *,
        name: Any,
        json_args: Any,
        timeout: float | None,
        debug: bool,
        workspace_id: int | None,
        schedule: str | None,
    ) -> TaskRecord:
        orch = self.orchestrations.get(orch_id)
        if orch.status != "ready":
            raise TaskError(
                f"orchestration {orch.id} is not ready (status {orch.status}); wait for status 'ready' first"
            )
        try:
            args = json.loads(json.dumps({} if json_args is None else json_args))
        except (TypeError, ValueError) as exc:
            raise TaskError(f"json_args must be JSON-serializable: {exc}") from None
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout) \
                    or not 0 < timeout <= MAX_TIMEOUT_SECONDS:
                raise TaskError(f"timeout must be a positive number of seconds up to {MAX_TIMEOUT_SECONDS} or None, "
                                f"got {timeout!r}")
        now = self.clock.now()
        task = TaskRecord(
            id=self.ids.uuid4("task"),
            name=name,
            orch_id=orch.id,
            orch_sha=orch.sha,
            workspace_id=orch.workspace_id if workspace_id is None else workspace_id,
            owner_id=orch.owner_id,
            json_args=args,
            timeout=timeout,
            debug=bool(debug),
            schedule=schedule,
            status="pending",
            created_at=now,
            updated_at=now,
        )
        self._tasks[task.id] = task
        return task

    def run_once(
        self,
        orch_id: str,
        *,
        name: Any,
        json_args: Any = None,
        timeout: float | None = None,
        debug: bool = False,
        workspace_id: int | None = None,
    ) -> TaskRecord:
        """A task that runs the orchestration once, ``launch_seconds`` from now."""
        task = self._new_task(orch_id, name=name, json_args=json_args, timeout=timeout, debug=debug,
                              workspace_id=workspace_id, schedule=None)
        task.timers.append(self.clock.call_later(
            self.timings.launch_seconds, lambda: self._launch_once(task), name=f"task {task.id} launch"))
        return task

    def run_scheduled(
        self,
        orch_id: str,
        *,
        name: Any,
        schedule: object,
        json_args: Any = None,
        timeout: float | None = None,
        debug: bool = False,
        workspace_id: int | None = None,
    ) -> TaskRecord:
        """A task that runs the orchestration at every instant of a 5-field cron ``schedule``."""
        expr = validate_schedule(schedule)
        try:
            _cron().croniter(expr, self.clock.now()).get_next(_dt.datetime)
        except _cron().CroniterError as exc:
            raise TaskError(f"invalid schedule {schedule!r}: it never fires ({exc})") from None
        task = self._new_task(orch_id, name=name, json_args=json_args, timeout=timeout, debug=debug,
                              workspace_id=workspace_id, schedule=expr)
        task.schedule = schedule if isinstance(schedule, str) else expr
        task.timers.append(self.clock.call_later(
            self.timings.launch_seconds, lambda: self._mark_started(task), name=f"task {task.id} start"))
        self._arm(task, _cron().croniter(expr, task.created_at))
        return task

    # -- running ---------------------------------------------------------------------------
    def _mark_started(self, task: TaskRecord) -> None:
        if task.status == "pending":
            task.status = "started"
            task.updated_at = self.clock.now()

    def _launch_once(self, task: TaskRecord) -> None:
        if task.status != "pending":
            return
        self._mark_started(task)
        self._execute(task)

    def _arm(self, task: TaskRecord, schedule: Any) -> None:
        try:
            instant = schedule.get_next(_dt.datetime)
        except _cron().CroniterError:  # no further instant (croniter's search horizon): nothing more to run
            return
        timer = self.clock.call_at(instant, lambda: self._fire(task, schedule), name=f"task {task.id} cron")
        task.timers = [t for t in task.timers if not t.cancelled and t.when >= self.clock.now()]
        task.timers.append(timer)

    def _fire(self, task: TaskRecord, schedule: Any) -> None:
        if task.killed or task.status == "pending_kill":
            return
        self._arm(task, schedule)
        self._mark_started(task)
        if task.id in self._executing:
            task.skipped.append(self.clock.now())
            return
        self._execute(task)

    def _execute(self, task: TaskRecord) -> TaskRunRecord:
        orch = self.orchestrations.get(task.orch_id)
        now = self.clock.now()
        run = TaskRunRecord(run_id=self.ids.uuid4("task-run"), task_id=task.id, status="running",
                            created_at=now, updated_at=now)
        task.runs.append(run)
        self._runs[run.run_id] = run
        context = runner.RunContext(
            task_id=task.id, run_id=run.run_id, json_args=task.json_args, workspace_id=task.workspace_id,
            orch_id=orch.id, orch_sha=orch.sha, owner_id=orch.owner_id, debug=task.debug,
        )
        assert orch.extracted is not None
        self._executing.add(task.id)
        try:
            if self.mode == ISOLATED:
                outcome = isolated.execute(
                    orch.extracted, context, emu=self.emulator, clock=self.clock, log_lines=run.logs,
                    run_root=self.orchestrations.run_root(), profile=self.profile, timeout=task.timeout,
                    settings=self.isolation, killed=lambda: task.killed or task.status == "pending_kill",
                    server_urls=self._server_urls())
            else:
                outcome = runner.execute(orch.extracted, context, clock=self.clock, log_lines=run.logs,
                                         profile=self.profile, timeout=task.timeout)
        finally:
            self._executing.discard(task.id)
        run.status = outcome.status
        run.error = outcome.error
        run.updated_at = self.clock.now()
        task.updated_at = run.updated_at
        reraise = outcome.extra.get("reraise")
        if reraise is not None:
            raise reraise
        return run

    def _server_urls(self) -> dict[str, str]:
        """URLs of the emulator's 127.0.0.1 server for an isolated run's environment (started on first need)."""
        emu = self.emulator
        urls = getattr(emu, "task_server_urls", None)
        if urls is None:
            return {}
        try:
            return dict(urls())
        except Exception:  # noqa: BLE001 - no server: the run reaches the parent over its channel only
            return {}

    # -- killing ---------------------------------------------------------------------------
    def kill(self, task_id: str) -> TaskRecord:
        """Stop future launches/runs: ``pending_kill`` now, ``killed`` after ``kill_seconds``."""
        task = self.get(task_id)
        if task.killed or task.status == "pending_kill":
            return task
        for timer in task.timers:
            timer.cancel()
        task.timers.clear()
        task.status = "pending_kill"
        task.updated_at = self.clock.now()
        self.clock.call_later(self.timings.kill_seconds, lambda: self._finish_kill(task),
                              name=f"task {task.id} killed")
        return task

    def _finish_kill(self, task: TaskRecord) -> None:
        task.killed = True
        if self.newest:
            task.status = "killed"
        task.updated_at = self.clock.now()

    # -- reading ---------------------------------------------------------------------------
    def get(self, task_id: str) -> TaskRecord:
        task = self._tasks.get(str(task_id))
        if task is None:
            raise TaskNotFound(f"task {task_id} not found")
        return task

    def list(
        self,
        *,
        workspace_ids: list[int] | None = None,
        killed: bool = False,
        orch_id: str | None = None,
    ) -> list[TaskRecord]:
        """Tasks in creation order; killed ones only with ``killed=True``."""
        tasks = list(self._tasks.values())
        if not killed:
            tasks = [t for t in tasks if not t.killed]
        if workspace_ids is not None:
            wanted = set(workspace_ids)
            tasks = [t for t in tasks if t.workspace_id in wanted]
        if orch_id is not None:
            tasks = [t for t in tasks if t.orch_id == orch_id]
        return tasks

    def by_orch_sha(self, sha: str) -> list[TaskRecord]:
        return [t for t in self._tasks.values() if t.orch_sha == sha]

    def runs(self, task_id: str, *, limit: int | None = None, status: str | None = None) -> list[TaskRunRecord]:
        """A task's runs, newest first, optionally only one status and at most ``limit``."""
        task = self.get(task_id)
        if status is not None and status not in RUN_STATUS_FILTERS.get(self.profile, RUN_STATUS_FILTERS["2026.1"]):
            raise TaskError(f"invalid run status filter {status!r}")
        runs = list(reversed(task.runs))
        if status not in (None, "all"):
            runs = [r for r in runs if r.status == status]
        if limit is not None:
            runs = runs[: max(int(limit), 0)]
        return runs

    def run(self, run_id: str) -> TaskRunRecord:
        run = self._runs.get(str(run_id))
        if run is None:
            raise TaskNotFound(f"task run {run_id} not found")
        return run

    def logs(self, run_id: str, lines: int | None = None) -> list[str]:
        """A run's CRI log lines (the last ``lines`` of them when given)."""
        logs = list(self.run(run_id).logs)
        if lines is not None:
            n = max(int(lines), 0)
            logs = logs[-n:] if n else []
        return logs

    def __len__(self) -> int:
        return len(self._tasks)


def stores_for(emu: Any) -> tuple[OrchestrationStore, TaskStore]:
    """The orchestration and task stores of an emulator's platform backend (created on first use)."""
    backend = emu.wallaroo
    orchestrations = getattr(backend, "orchestrations", None)
    if orchestrations is None:
        orchestrations = OrchestrationStore(emu.clock, emu.ids, profile=emu.sdk,
                                            requirements=getattr(emu, "requirements", "strict"))
        backend.orchestrations = orchestrations
    tasks = getattr(backend, "tasks", None)
    if tasks is None:
        tasks = TaskStore(emu.clock, emu.ids, orchestrations, profile=emu.sdk, emulator=emu,
                          mode=getattr(emu, "task_runs", ISOLATED),
                          isolation=IsolationSettings(getattr(emu, "task_real_time_limit", 60.0)))
        backend.tasks = tasks
        if tasks.mode == ISOLATED:  # start the fork server a run will need as soon as its code is known
            orchestrations.on_upload = lambda extracted: isolated.prewarm(extracted, getattr(emu, "sdk_source", "facade"))
    return orchestrations, tasks
