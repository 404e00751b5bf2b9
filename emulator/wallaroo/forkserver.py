"""The warm worker isolated task runs are forked from (a fork server, as ``multiprocessing``'s).

Starting a fresh interpreter and importing pandas, google-cloud-bigquery and the SDK costs a
second or more; forking a process that already did costs a few milliseconds. So the first
isolated run of a session starts one **fork server**: ``python -c ...serve(fd)``, a
single-threaded process that imports what task code uses (:data:`PRELOAD`, plus the real
``wallaroo`` package for ``sdk="installed"``), freezes its heap for the garbage collector (so
children do not copy it page by page) and then waits. For every run the parent sends it three
file descriptors (the run's channel and the two ends that become the child's stdout and stderr,
passed with ``SCM_RIGHTS``); it hands them to a child, which runs
:func:`emulator.wallaroo.task_process.main` and never returns, and answers the child's pid. The
child was forked ahead (a **spare**, forked while the previous run's child ran, waiting on a
socket of its own for its run's descriptors), so the fork is off the run's critical path; the
server holds one spare at a time, and a spare exits when the server does. It reaps its children and reports each exit
status (``os.waitpid`` encoding) to the parent, which turns it into a run status.

The fork server never imports anything of the parent's session (test modules, the test's
``sys.modules``): a child starts from a clean set of pre-imported libraries. It exits when the
parent closes its end (the parent process ended) and is killed at interpreter exit.

Three kinds, each started on first need (or ahead of it: :func:`prewarm`, when an orchestration is
uploaded to an emulator whose runs are isolated, so that the imports overlap the caller's work) and reused for the interpreter's life (:func:`shutdown`
stops them): ``light`` (the emulator's client side only, ~40 MB: for code that imports nothing
but the standard library, where a fork of the big one would cost more than the run), ``full``
(pandas, pyarrow, google-cloud-bigquery and its Storage client, requests/httpx, the facade) and
``installed`` (``full`` plus the real ``wallaroo`` package, for ``sdk="installed"``).
:func:`emulator.wallaroo.isolated.server_kind` picks one per orchestration from the imports of
its Python files; a module the server did not preload is imported by the run as usual.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

#: What the light fork server imports (runs whose code imports only the standard library).
PRELOAD_LIGHT = (
    "json", "logging", "traceback", "linecache", "tokenize", "shutil", "pickle",
    "requests", "responses",
    "emulator.clock", "emulator.transport", "emulator.network", "emulator.ids",
    "emulator.bigquery.client_warnings", "emulator.wallaroo.task_process", "emulator.wallaroo.runner",
    "emulator.wallaroo.container_paths", "emulator.emulator", "emulator.server",
)
#: What the full fork server imports before forking (best effort: a missing one is skipped).
PRELOAD = (
    "json", "logging", "traceback", "linecache", "tokenize", "shutil", "pickle",
    "numpy", "pandas", "pyarrow",
    "requests", "responses", "httpx", "respx",
    "google.auth", "google.oauth2.service_account", "google.auth.transport.requests",
    "google.auth.crypt._cryptography_rsa", "cryptography.hazmat.primitives.serialization",
    "google.cloud.bigquery", "google.cloud.bigquery.dbapi", "google.cloud.bigquery._pandas_helpers",
    "google.cloud.bigquery_storage_v1", "google.cloud.bigquery.magics",
    "db_dtypes", "croniter", "netrc", "resource", "pyarrow.pandas_compat", "pandas.core.methods.to_dict",
    "emulator.wallaroo.keycloak", "emulator.wallaroo.wire", "emulator.wallaroo.installed",
    "emulator.clock", "emulator.transport", "emulator.network", "emulator.ids",
    "emulator.bigquery.storage.inprocess", "emulator.bigquery.client_warnings",
    "emulator.wallaroo.task_process", "emulator.wallaroo.runner",
    "emulator.wallaroo.container_paths", "emulator.wallaroo.activation", "emulator.emulator", "emulator.server",
)
#: Extra modules for ``sdk="installed"`` (the real SDK, imported before any time patch).
PRELOAD_INSTALLED = ("wallaroo", "wallaroo.client")
#: The kinds of fork server: what each preloads.
KINDS = {"light": PRELOAD_LIGHT, "full": PRELOAD, "installed": PRELOAD + PRELOAD_INSTALLED}

_HEADER = struct.Struct("!ciq")  # kind, pid, status


def _preload(names: tuple[str, ...]) -> None:
    import importlib

    from emulator.clock import _import_time_machine

    _import_time_machine()  # without its optional pytest import

    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - best effort: the child imports it if it needs it
            pass
    if "pandas" in names:  # the full server: the facade's modules too, as `import wallaroo` maps them
        try:
            from emulator.wallaroo.activation import sdk_modules

            sdk_modules()
        except Exception:  # noqa: BLE001
            pass
    from emulator.wallaroo.task_process import prepare

    prepare()


def serve(fd: int, kind: str = "full") -> None:  # pragma: no cover - runs in the fork server process
    """The fork server's main loop (run as ``python -c``)."""
    import gc

    control = socket.socket(fileno=fd)
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    _preload(KINDS[kind])
    gc.collect()
    gc.freeze()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children: set[int] = set()
    spare: list[tuple[int, socket.socket]] = []  # a child forked ahead, waiting for its run's fds

    def start_child(wait: socket.socket | None, other_end: socket.socket | None = None) -> int:
        pid = os.fork()
        if pid == 0:
            try:
                if other_end is not None:
                    other_end.close()  # else the spare would never see the server's end close
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                os.close(wake_r)
                os.close(wake_w)
                control.close()  # the heap stays frozen: a collection would touch (and copy) every page
                fds = run_fds
                if wait is not None:  # forked ahead: the run's fds come when the parent asks for a child
                    try:
                        msg, fds, _flags, _addr = socket.recv_fds(wait, 16, 8)
                    except OSError:
                        msg = b""
                    if not msg:
                        os._exit(0)  # the fork server is gone
                    wait.close()
                from emulator.wallaroo.task_process import main

                main(*fds)
            finally:
                os._exit(70)
        return pid

    def fork_spare() -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = start_child(theirs, mine)
        finally:
            theirs.close()
        spare.append((pid, mine))

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                return
            if pid == 0:
                return
            if spare and spare[0][0] == pid:  # the spare died before use (never reported)
                spare.pop()[1].close()
                continue
            children.discard(pid)
            control.sendall(_HEADER.pack(b"X", pid, status))

    run_fds: list[int] = []
    fork_spare()
    while True:
        try:
            ready, _, _ = select.select([control, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
            reap()
        if control not in ready:
            continue
        try:
            msg, fds, _flags, _addr = socket.recv_fds(control, 16, 8)
        except (ConnectionError, OSError):
            os._exit(0)
        if not msg:
            os._exit(0)  # the parent is gone
        pid = 0
        if spare:
            pid, mine = spare.pop()
            try:
                socket.send_fds(mine, [b"F"], fds)
            except OSError:  # it died meanwhile: fork one now
                pid = 0
            mine.close()
        if not pid:
            run_fds = fds
            pid = start_child(None)
        for f in fds:
            os.close(f)
        children.add(pid)
        control.sendall(_HEADER.pack(b"P", pid, 0))
        fork_spare()  # off the next run's critical path: this run's child is running meanwhile
        reap()


class ForkServer:
    """The parent's handle on one fork server process."""

    def __init__(self, kind: str = "full") -> None:
        self.kind = kind
        self.owner = os.getpid()  # a process forked from the owner must start its own
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        root = str(Path(__file__).resolve().parents[2])  # where this `emulator` package is importable
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        for key in ("TZ", "GOOGLE_APPLICATION_CREDENTIALS", "XDG_CACHE_HOME"):
            env.pop(key, None)  # the emulator's own settings: each run is handed its environment
        code = f"from emulator.wallaroo.forkserver import serve; serve({child.fileno()}, {kind!r})"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], pass_fds=[child.fileno()], env=env, cwd="/",
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True,
        )
        child.close()
        self._sock = parent
        self._buffer = b""
        self._exits: dict[int, int] = {}
        self._forgotten: set[int] = set()
        self._pending_pid: int | None = None
        self._lock = threading.Lock()

    def alive(self) -> bool:
        return self.process.poll() is None

    def _read_message(self, timeout: float | None) -> bool:
        """Read one message into the state; False if none came within ``timeout`` seconds."""
        while len(self._buffer) < _HEADER.size:
            from emulator.wallaroo.isolated import readable

            if not readable([self._sock], timeout):
                return False
            data = self._sock.recv(4096)
            if not data:
                raise RuntimeError("the task-run fork server exited")
            self._buffer += data
        kind, pid, status = _HEADER.unpack(self._buffer[: _HEADER.size])
        self._buffer = self._buffer[_HEADER.size:]
        if kind == b"X":
            if pid in self._forgotten:
                self._forgotten.discard(pid)
            else:
                self._exits[pid] = status
        else:
            self._pending_pid = pid
        return True

    def spawn(self, fds: list[int]) -> int:
        """Fork a child that runs ``task_process.main(*fds)``; its pid."""
        with self._lock:
            self._pending_pid = None
            socket.send_fds(self._sock, [b"F"], fds)
            while self._pending_pid is None:
                self._read_message(None)
            return self._pending_pid

    def wait(self, pid: int, timeout: float) -> int | None:
        """The wait status of child ``pid`` (``os.waitpid`` encoding), or None after ``timeout`` seconds."""
        from emulator.clock import real_monotonic

        end = real_monotonic() + timeout
        with self._lock:
            while pid not in self._exits:
                left = end - real_monotonic()
                if left <= 0 or not self._read_message(left):
                    return None
            return self._exits.pop(pid)

    def forget(self, pid: int) -> None:
        """Nobody will :meth:`wait` for child ``pid``: drop its exit status when it comes."""
        with self._lock:
            if self._exits.pop(pid, None) is None:
                self._forgotten.add(pid)

    def close(self) -> None:
        try:
            self._sock.close()
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()


_servers: dict[str, ForkServer] = {}
_servers_lock = threading.Lock()


def get(kind: str = "full") -> ForkServer:
    """This interpreter's fork server of ``kind`` (:data:`KINDS`), started on first use."""
    if kind not in KINDS:
        raise ValueError(f"unknown fork server kind {kind!r}")
    with _servers_lock:
        server = _servers.get(kind)
        if server is None or server.owner != os.getpid() or not server.alive():
            server = _servers[kind] = ForkServer(kind)
        return server


def prewarm(kind: str = "full") -> None:
    """Start this interpreter's fork server of ``kind`` now, without waiting for its imports.

    Called when an orchestration is uploaded to an emulator whose runs are isolated, so that the
    server's imports overlap the caller's work instead of delaying the first run. Never raises: a
    server that cannot be started (or dies while it starts) is started again by the run's
    :func:`get`, whose failure the run reports as today.
    """
    try:
        get(kind)
    except Exception:  # noqa: BLE001 - best effort: the run's own start reports the failure
        pass


def shutdown() -> None:
    """Stop every fork server this interpreter started."""
    with _servers_lock:
        while _servers:
            _, server = _servers.popitem()
            if server.owner == os.getpid():
                server.close()


atexit.register(shutdown)
