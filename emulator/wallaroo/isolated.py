"""Isolated task runs: each run of an orchestration in its own process (the default).

On the platform every task run is a fresh container running ``python main.py``. Here every run
is a fresh child process forked from a warm, pre-imported fork server
(:mod:`emulator.wallaroo.forkserver`), started from its own copy of the extracted archive in a
fresh working directory (``<store folder>/runs/<run id>/home/jovyan``: a stable path per run;
paths under it read ``/home/jovyan`` in the run log, and it is removed when the run ends). What
the child does is described in :mod:`emulator.wallaroo.task_process`. The fork server a run needs
is started ahead when its orchestration is uploaded (:func:`prewarm`, or :func:`prewarm_archive`
from a zip's bytes), so its imports overlap the caller's work.

**One backend, one timeline.** The parent's thread that started the run (the one advancing the
clock when the run fell due) waits for the child and answers every request the child sends over
the run's channel, in order: ``time.sleep`` (the parent advances its clock, running due work,
nested runs included, then answers with the new instant), HTTP requests of the child's clients
(answered by the parent's routes), the Storage Read API, the platform backend's methods (for the
facade) and seeded ids. Nothing else moves the clock meanwhile, so two identical runs are
byte-identical, logs included.

**What becomes of a run** (never an exception in the caller):

* ``main.py`` returns or ``sys.exit(0)``: ``success``;
* an uncaught exception (``KeyboardInterrupt`` too), ``sys.exit(n)``, ``os._exit(n)``, a signal
  (``SIGKILL`` of itself, a segfault): ``failure``, with the traceback or a ``WALLAROO:`` line
  naming the exit status or signal in the log;
* its timeout (virtual seconds) reached while it sleeps: the process is killed at that instant,
  ``timed_out`` (``failure`` in 2023.2, whose ``TaskStatus`` has no ``timed_out``);
* it computes for longer than the **real-time guard** (:attr:`IsolationSettings.real_time_limit`,
  60 real seconds by default, ``Emulator(task_real_time_limit=...)``) without asking the parent
  anything (a busy loop, a deadlock): killed, ``timed_out`` (2023.2: ``failure``); the time the
  parent spends answering (a nested run, say) does not count;
* its task is killed while it runs (``task.kill()`` from a timer, another run, the run itself):
  the process is terminated as soon as the parent next hears from it, ``killed`` (2023.2:
  ``failure``);
* a nested run stopped by an enclosing run's deadline: ``killed`` (2023.2: ``failure``), and the
  enclosing run then times out, as in-process.

stdout and stderr are read from pipes and framed as CRI lines in the run log, stamped with the
virtual instant they were read at (the child flushes before each request, so a line printed
before a ``time.sleep`` carries the instant before it); lines longer than
:data:`emulator.wallaroo.runner.CRI_MAX_LINE` characters are split into ``P`` partial records, as
container runtimes do. Reading is linear: a run printing 8 MB without a newline costs what
copying 8 MB costs.
"""

from __future__ import annotations

import datetime as _dt
import os
import select
import shutil
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.clock import Clock, DeadlineExceeded, real_monotonic
from emulator.wallaroo import forkserver, remote
from emulator.wallaroo.orchestrations import PLATFORM_HOME, ExtractedOrchestration
from emulator.wallaroo.runner import FRAMING_START, CriStream, RunContext, RunLog, RunOutcome, closing_line

#: Real seconds to wait for a child's output and exit status once its channel closed.
EXIT_GRACE_SECONDS = 5.0
#: A run description up to this size is written before the fork (it waits in the socket buffer).
SPEC_IN_ADVANCE_BYTES = 64 * 1024


@dataclass
class IsolationSettings:
    """How isolated runs are executed (per task store; ``Emulator(...)`` arguments set them)."""

    #: Real seconds a run may compute without asking the parent anything before it is killed.
    real_time_limit: float = 60.0


_kinds: dict[str, str] = {}


def server_kind(extracted: ExtractedOrchestration, sdk_source: str = "facade") -> str:
    """Which fork server a run of ``extracted`` starts from (see :mod:`emulator.wallaroo.forkserver`).

    ``light`` when the archive's Python files import only the standard library and the archive's
    own modules (read with :mod:`ast`, once per archive), else ``full`` (``installed`` with the
    real SDK). Only a matter of speed: a module either server lacks is imported by the run.
    """
    if sdk_source == "installed":
        return "installed"
    kind = _kinds.get(extracted.sha)
    if kind is None:
        kind = _kinds[extracted.sha] = "light" if _stdlib_only(extracted) else "full"
    return kind


def prewarm(extracted: ExtractedOrchestration, sdk_source: str = "facade") -> None:
    """Start the fork server runs of ``extracted`` will need, in the background (never blocks on
    its imports, never raises; see :func:`emulator.wallaroo.forkserver.prewarm`)."""
    forkserver.prewarm(server_kind(extracted, sdk_source))


def prewarm_archive(data: bytes, sdk_source: str = "facade") -> None:
    """:func:`prewarm` for an orchestration zip not uploaded yet (read in memory, nothing extracted):
    for callers that know which archive they will upload well before they do. A zip that cannot be
    read starts nothing (its upload reports what is wrong with it)."""
    import io
    import zipfile

    if sdk_source == "installed":
        forkserver.prewarm("installed")
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            sources = [archive.read(name) for name in names if name.endswith(".py")]
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return
    forkserver.prewarm("light" if _imports_stdlib_only(names, sources) else "full")


def _stdlib_only(extracted: ExtractedOrchestration) -> bool:
    def read(member: str) -> bytes:
        try:
            return (extracted.root / member).read_bytes()
        except OSError:
            return b""

    return _imports_stdlib_only(extracted.members, (read(m) for m in extracted.members if m.endswith(".py")))


def _imports_stdlib_only(members: list[str], sources: Any) -> bool:
    """Whether the Python ``sources`` import only the standard library and the archive's own ``members``."""
    import ast
    import sys

    local: set[str] = set()
    for member in members:
        parts = member.rstrip("/").split("/")
        local.update(parts)
        local.update(p[:-3] for p in parts if p.endswith(".py"))
    allowed = set(sys.stdlib_module_names) | local
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            if any(name.split(".", 1)[0] not in allowed for name in names):
                return False
    return True


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _TaskKilled(BaseException):
    """The run's task was killed while the parent answered the run: stop it before it hears back."""


class _Run:
    """The parent's side of one isolated run."""

    def __init__(self, emu: Any, clock: Clock, log: RunLog, workdir: Path) -> None:
        self.emu = emu
        self.clock = clock
        self.log = log
        self.workdir = workdir
        self.pid: int | None = None
        self.sock: socket.socket | None = None
        self.fds: dict[int, str] = {}
        self.killed: Any = None  # () -> bool: was the run's task killed?
        backend = getattr(emu, "wallaroo", None)
        self.handles = remote.Handles([backend, getattr(emu, "ids", None)], self.call_child)
        replace = (str(workdir), PLATFORM_HOME)
        self.streams = {"stdout": CriStream(log, "stdout", replace), "stderr": CriStream(log, "stderr", replace)}

    # -- answering the child -----------------------------------------------------------------
    def serve(self, message: bytes) -> tuple[str, Any]:
        """Handle one message of the child: ``("done"|"cbdone", payload)`` or ``("served", None)``.

        A deadline reached while answering (:class:`DeadlineExceeded`) propagates; any other
        failure of a request goes back to the child as its exception.
        """
        op, args = self.handles.loads(message)
        if op in ("done", "cbdone"):
            return op, args[0] if op == "done" else args
        try:
            value = self.answer(op, args)
        except (DeadlineExceeded, KeyboardInterrupt, remote.ChannelClosed, _TaskKilled):
            raise
        except BaseException as exc:  # noqa: BLE001 - the child's request failed: its exception
            self.reply(False, remote.safe_exception(exc))
        else:
            if self.killed is not None and self.killed():
                raise _TaskKilled  # before the answer: the run does nothing more once its task is killed
            try:
                self.reply(True, value)
            except OSError:
                pass  # the child died meanwhile: its exit status tells
        return "served", None

    def call_child(self, key: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call the child's function ``key`` (see :class:`remote.ChildCallable`), serving its requests meanwhile."""
        assert self.sock is not None
        data = self.handles.dumps(("callback", key, args, kwargs, self.clock.epoch_us()))
        self.sock.sendall(remote._LENGTH.pack(len(data)) + data)
        while True:
            message = remote.recv_bytes(self.sock)
            _drain_ready(self, self.fds, list(self.fds))
            kind, payload = self.serve(message)
            if kind == "cbdone":
                ok, value = payload
                if ok:
                    return value
                raise value
            if kind == "done":
                raise remote.ChannelClosed("the task run ended inside a callback")

    def answer(self, op: str, args: tuple[Any, ...]) -> Any:
        if op == "sleep":
            self.clock.sleep(args[0])
            return None
        if op == "remote":
            return remote.serve_request(self.handles, args[0], args[1])
        if op == "http":
            return self._http(*args)
        if op == "uuids":
            ids = self.handles.objects[1]
            return [ids.uuid(args[0]) for _ in range(int(args[1]))]
        if op == "storage":
            from emulator.bigquery.storage import read_service
            from emulator.bigquery.storage.inprocess import storage_message_classes

            request_class = storage_message_classes()[args[0]][0]
            result = getattr(read_service(self.emu.bigquery), args[0])(request_class.FromString(args[1]))
            if args[0] == "read_rows":
                return [item.SerializeToString() for item in result]
            return result.SerializeToString()
        raise ValueError(f"unknown request {op!r} from a task run")

    def _http(self, method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, dict[str, str]]:
        from emulator import transport

        token = transport._IN_PROCESS.set(True)  # the child shares the in-process Storage Read stand-in
        try:
            response = self.emu.router.dispatch(method, url, headers, body)
        finally:
            transport._IN_PROCESS.reset(token)
        return response.status, bytes(response.body), dict(response.headers)

    def reply(self, ok: bool, value: Any) -> None:
        assert self.sock is not None
        now = self.clock.epoch_us()
        try:
            data = self.handles.dumps(("reply", ok, value, now))
        except Exception as exc:  # noqa: BLE001 - an answer that cannot travel: the child gets an error
            data = self.handles.dumps(("reply", False, TypeError(f"the emulator cannot send {type(value).__name__} "
                                                                 f"to a task run: {exc}"), now))
        self.sock.sendall(remote._LENGTH.pack(len(data)) + data)

    # -- output ------------------------------------------------------------------------------
    def drain(self, fds: dict[int, str], block_until_eof: float | None = None) -> None:
        """Read what the child wrote so far (or, with ``block_until_eof``, until both pipes close)."""
        end = real_monotonic() + (block_until_eof or 0)
        while fds:
            wait = max(end - real_monotonic(), 0) if block_until_eof else 0
            ready = readable(list(fds), wait)
            if not ready:
                return
            for fd in ready:
                data = os.read(fd, 1 << 16)
                if data:
                    self.streams[fds[fd]].feed(data)
                else:
                    os.close(fd)
                    del fds[fd]

    def kill(self) -> None:
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def execute(
    extracted: ExtractedOrchestration,
    context: RunContext,
    *,
    emu: Any,
    clock: Clock,
    log_lines: list[str],
    run_root: Path,
    profile: str = "2023.2",
    timeout: float | None = None,
    settings: IsolationSettings | None = None,
    killed: Any = None,
    server_urls: dict[str, str] | None = None,
) -> RunOutcome:
    """Run ``extracted``'s entry point once, in its own process, for ``context`` (never raises
    for anything the run does; see the module docstring). ``killed()`` says whether the run's
    task was killed meanwhile. An enclosing run's deadline travels on in ``outcome.extra["reraise"]``."""
    settings = settings or IsolationSettings()
    newest = profile != "2023.2"
    log = RunLog(clock, log_lines)
    for line in FRAMING_START:
        log.add("stdout", line)
    label = f"timeout of task {context.task_id} run {context.run_id}"
    deadline = clock.now() + _dt.timedelta(seconds=float(timeout)) if timeout is not None else None
    run_dir = run_root / context.run_id
    workdir = run_dir / "home" / "jovyan"
    run = _Run(emu, clock, log, workdir)
    run.killed = killed
    spec = _spec(extracted, context, emu, clock, run_dir, workdir, run, server_urls or {})
    if run_dir.exists():
        shutil.rmtree(run_dir, ignore_errors=True)
    copy_tree(str(extracted.root), str(workdir))  # here: a forked child pays for every page it touches
    parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    fds = run.fds = {out_r: "stdout", err_r: "stderr"}
    run.sock = parent_sock
    outcome: RunOutcome | None = None
    stop_note: str | None = None
    reraise: BaseException | None = None
    import pickle

    data = pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL)
    early = len(data) <= SPEC_IN_ADVANCE_BYTES
    server: forkserver.ForkServer | None = None
    try:
        try:
            if early:  # waits in the socket buffer: the child reads it as soon as it is forked
                parent_sock.sendall(remote._LENGTH.pack(len(data)) + data)
            server = forkserver.get(server_kind(extracted, getattr(emu, "sdk_source", "facade")))
            run.pid = server.spawn([child_sock.fileno(), out_w, err_w])
        except (OSError, RuntimeError) as exc:  # no process could be started: a failed run, not an exception
            outcome = RunOutcome("failure", error=f"the run's process could not be started: {exc}",
                                 extra={"stopped": "start"})
            stop_note = f"WALLAROO: Task run failed to start: {type(exc).__name__}: {exc}. Status: failure"
        finally:
            child_sock.close()
            os.close(out_w)
            os.close(err_w)
        if outcome is None and not early:
            parent_sock.sendall(remote._LENGTH.pack(len(data)) + data)
        budget = float(settings.real_time_limit)
        deadline_ctx = clock.deadline(deadline, label) if deadline is not None else None
        if deadline_ctx is not None:
            deadline_ctx.__enter__()
        try:
            while outcome is None:
                started = real_monotonic()
                ready = readable([parent_sock, *fds], max(budget, 0))
                budget -= real_monotonic() - started
                if not ready:
                    if budget > 0:
                        continue
                    run.kill()
                    outcome = RunOutcome("timed_out" if newest else "failure",
                                         error=f"real-time limit of {settings.real_time_limit:g} s reached",
                                         extra={"stopped": "real-time"})
                    stop_note = (f"WALLAROO: Task run stopped: it ran for {settings.real_time_limit:g} real seconds "
                                 "without sleeping (the emulator's real-time guard). Status: " + outcome.status)
                    break
                if parent_sock not in ready:
                    _drain_ready(run, fds, ready)
                    continue
                _drain_ready(run, fds, list(fds))  # what it wrote before asking comes first
                try:
                    message = remote.recv_bytes(parent_sock)
                except remote.ChannelClosed:
                    break
                try:
                    kind, payload = run.serve(message)
                except DeadlineExceeded as exc:
                    run.kill()
                    if exc.label == label:
                        outcome = RunOutcome("timed_out" if newest else "failure", error=f"timed out after {timeout}s",
                                             extra={"stopped": "timeout"})
                    else:
                        outcome = RunOutcome("killed" if newest else "failure",
                                             error="stopped by an enclosing run's timeout", extra={"stopped": "enclosing"})
                        reraise = exc
                    break
                except _TaskKilled:
                    run.kill()
                    outcome = RunOutcome("killed" if newest else "failure", error="the task was killed",
                                         extra={"stopped": "kill"})
                    stop_note = f"WALLAROO: Task run stopped: the task was killed. Status: {outcome.status}"
                    break
                except remote.ChannelClosed:
                    break
                if kind == "done":
                    outcome = RunOutcome(payload["status"], error=payload.get("error"), exit_code=payload.get("exit_code"))
                    break
        finally:
            if deadline_ctx is not None:
                deadline_ctx.__exit__(None, None, None)
    except BaseException:
        run.kill()
        raise
    finally:
        parent_sock.close()
        reported = outcome is not None and "stopped" not in outcome.extra
        if reported:  # it flushed everything before reporting: read what the pipes hold, do not wait for its exit
            _drain_ready(run, fds, list(fds))
        else:
            run.drain(fds, block_until_eof=EXIT_GRACE_SECONDS if outcome is None else 0.5)
        for fd in fds:
            os.close(fd)
        fds.clear()
        status = None
        if run.pid is not None and server is not None:
            if reported:
                server.forget(run.pid)  # reaped by the fork server; its exit status adds nothing
            else:
                status = server.wait(run.pid, EXIT_GRACE_SECONDS)
                if status is None:
                    run.kill()
                    status = server.wait(run.pid, EXIT_GRACE_SECONDS)
        for stream in run.streams.values():
            stream.finish()
        if not reported:  # a reporting child removes its own directory on its way out
            shutil.rmtree(run_dir, ignore_errors=True)
    if outcome is None:  # the channel closed without an outcome: the process died
        outcome = _died(status, newest)
        stop_note = outcome.extra.pop("note", None)
    log.add("stdout", stop_note if stop_note is not None else closing_line(outcome, timeout))
    if reraise is not None:
        outcome.extra["reraise"] = reraise
    return outcome


def copy_tree(source: str, target: str) -> None:
    """A plain copy of an extracted archive (file contents only; archives hold no links)."""
    for folder, _dirs, files in os.walk(source):
        rel = os.path.relpath(folder, source)
        into = target if rel == "." else os.path.join(target, rel)
        os.makedirs(into, exist_ok=True)
        for name in files:
            shutil.copyfile(os.path.join(folder, name), os.path.join(into, name))


def _drain_ready(run: _Run, fds: dict[int, str], ready: list[Any]) -> None:
    """Read everything the pipes among ``ready`` hold now (closing those at end of file)."""
    for fd in [fd for fd in list(fds) if fd in ready]:
        while True:
            chunk = _read_nonblocking(fd)
            if chunk is None:
                break
            if not chunk:
                os.close(fd)
                del fds[fd]
                break
            run.streams[fds[fd]].feed(chunk)


def readable(items: list[Any], timeout: float | None) -> list[Any]:
    """Which of ``items`` (file descriptors or sockets) can be read within ``timeout`` seconds
    (``poll``: no limit on descriptor numbers, unlike ``select``)."""
    poller = select.poll()
    by_fd: dict[int, Any] = {}
    for item in items:
        fd = item if isinstance(item, int) else item.fileno()
        by_fd[fd] = item
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while True:
        try:
            events = poller.poll(None if timeout is None else max(timeout, 0) * 1000)
            break
        except InterruptedError:  # pragma: no cover - retried by Python since 3.5; kept for safety
            continue
    return [by_fd[fd] for fd, _ in events]


def _read_nonblocking(fd: int) -> bytes | None:
    """What the pipe holds now (b"" at end of file), or None when it is empty."""
    if not readable([fd], 0):
        return None
    return os.read(fd, 1 << 16)


def _died(status: int | None, newest: bool) -> RunOutcome:
    """The outcome of a child whose channel closed before it reported (``os._exit``, a signal)."""
    if status is None:
        return RunOutcome("failure", error="the run's process vanished",
                          extra={"note": "WALLAROO: Task run ended: its process vanished. Status: failure"})
    if os.WIFSIGNALED(status):
        name = _signal_name(os.WTERMSIG(status))
        return RunOutcome("failure", error=f"killed by {name}", exit_code=128 + os.WTERMSIG(status),
                          extra={"note": f"WALLAROO: Task run ended: its process was killed by {name}. Status: failure"})
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1
    if code == 0:
        return RunOutcome("success", exit_code=0)
    return RunOutcome("failure", error=f"exit status {code}", exit_code=code,
                      extra={"note": f"WALLAROO: Task run ended: its process exited with status {code}. Status: failure"})


def _spec(extracted: ExtractedOrchestration, context: RunContext, emu: Any, clock: Clock, run_dir: Path,
          workdir: Path, run: _Run, server_urls: dict[str, str]) -> dict[str, Any]:
    """What the child needs to know (plain values only)."""
    from dataclasses import asdict

    env = dict(os.environ)
    env.update(context.env())
    router = getattr(emu, "router", None)
    backend = getattr(emu, "wallaroo", None)
    for key, url in (("WALLAROO_URL", server_urls.get("wallaroo")), ("BIGQUERY_EMULATOR_HOST", server_urls.get("bigquery")),
                     ("EMULATOR_URL", server_urls.get("base"))):
        if url:
            env[key] = url
    from emulator.wallaroo.backend import WallarooBackend

    has_backend = isinstance(backend, WallarooBackend)
    if has_backend:
        from emulator.wallaroo.keycloak import realm_for

        realm_for(emu)  # created here: the child reads it, never creates it
    ids = getattr(emu, "ids", None)
    return {
        "env": env,
        "now_us": clock.epoch_us(),
        "run": asdict(context),
        "source_root": str(extracted.root),
        "workdir": str(workdir),
        "scratch": str(run_dir / "scratch"),
        "run_dir": str(run_dir),
        "entry_path": str(workdir / extracted.entrypoint),
        "code_filename": extracted.code_filename,
        "sdk": getattr(emu, "sdk", "2023.2"),
        "sdk_source": getattr(emu, "sdk_source", "facade"),
        "sdk_version": getattr(emu, "sdk_version", None),
        "seed": getattr(emu, "seed", 0),
        "project": getattr(emu, "project", "wallaroo-emulator"),
        "backend_methods": remote.method_names(type(backend)) if has_backend else None,
        "ids_methods": remote.method_names(type(ids)) if ids is not None else frozenset(),
        "has_bigquery": getattr(emu, "bigquery", None) is not None and router is not None,
        "hosts": dict(router._hosts) if router is not None else {},
        "path_rules": list(router._path_rules) if router is not None else [],
        "host_patterns": list(router._host_patterns) if router is not None else [],
        "static": list(router._static) if router is not None else [],
        "path_hosts": dict(getattr(router, "_path_hosts", {})) if router is not None else {},
        "allow_patterns": router.policy.patterns if router is not None else [],
    }


__all__ = ["IsolationSettings", "execute"]
