"""In-process execution of an orchestration's ``main.py`` for one task run.

What a run sees, and what is put back afterwards:

* a fresh ``__main__`` module as its namespace (``__name__ == "__main__"``, ``__file__`` the
  extracted ``main.py``); the code is compiled once per orchestration under the platform's
  path ``/home/jovyan/main.py``, so tracebacks in logs read as on the platform and do not depend
  on where the emulator extracted the archive (the source is registered in :mod:`linecache`);
* working directory and ``sys.path[0]``: the directory holding the entry point in the extracted
  archive; ``sys.argv == ["/home/jovyan/main.py"]``;
* environment: ``WALLAROO_TASK_ID`` plus the task's ``extra_env_vars`` (``MINIO_URL``, ``ORCH_ID``,
  ``ORCH_OWNER_ID``, ``ORCH_SHA``, ``TASK_DEBUG``, ``TASK_ID``); the whole environment is put
  back as it was after the run, whatever the code changed;
* ``sys.stdout``/``sys.stderr`` write into the run's log as CRI lines
  ``<RFC3339Nano> <stdout|stderr> F <text>`` stamped with the virtual clock, framed by the
  platform's ``WALLAROO:`` lines. A stream object kept by user code after the run (a logging
  handler, say) writes through to the real stream;
* modules imported from the archive are dropped from ``sys.modules`` afterwards, so another
  orchestration with a module of the same name gets its own;
* the root logger starts without handlers at level ``WARNING``, as in a new process (so
  ``logging.basicConfig`` takes effect in every run), and gets its handlers back afterwards;
  warning filters are put back too; ``sys.stdin`` is empty.

Not captured: output that bypasses ``sys.stdout``/``sys.stderr`` (a subprocess writing to the
inherited file descriptors, ``os.write(1, ...)``) goes to the real streams.

``wallaroo.Client().task_args()`` inside a run returns the task's ``json_args`` from
:func:`current_run` (a context variable), never from ``/home/jovyan/arguments.json``.

Outcome: the code returning (or ``sys.exit(0)``/``sys.exit(None)``) is ``success``; an
exception or a non-zero exit is ``failure`` with the traceback on ``stderr``, one line per log
entry. A timeout is a deadline on the virtual clock: the run's sleeps stop at the deadline and
the run ends there, ``failure`` in the 2023.2 profile (its ``TaskStatus`` has no ``timed_out``)
and ``timed_out`` in the newest. Runs nest: a run that sleeps advances the clock, which may
start other due runs inside that sleep; each keeps its own context, streams and log. A nested
run that sleeps past an *enclosing* run's deadline cannot go on (the clock cannot pass that
deadline while the enclosing run is suspended); it ends there as ``failure`` (2023.2) or
``killed`` (newest) with a log line saying why, and the enclosing run then times out.
"""

from __future__ import annotations

import builtins
import contextvars
import copy
import datetime as _dt
import io
import linecache
import logging
import os
import sys
import traceback
import types
import warnings
from dataclasses import dataclass, field
from typing import Any

from emulator.clock import Clock, DeadlineExceeded
from emulator.wallaroo.orchestrations import PLATFORM_HOME, ExtractedOrchestration

ARGUMENTS_FILE = f"{PLATFORM_HOME}/arguments.json"
#: Value of ``MINIO_URL`` inside runs *(guess: an in-cluster address, never contacted)*.
MINIO_URL = "http://minio.wallaroo.svc.cluster.local:9000"

FRAMING_START = (
    "WALLAROO: Setting up task run...",
    "WALLAROO: *** If you don't see any output, Python is probably buffering stdout.                       ***",
    "WALLAROO: *** Consider `print('...', flush=True)` or `sys.stdout.flush()` in your orchestration code. ***",
    "WALLAROO: Task environment ready. Running...",
)


def format_log_time(instant: _dt.datetime) -> str:
    """RFC 3339 with nanoseconds, as container runtimes stamp log lines (UTC, ``Z``)."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond:06d}000Z"


@dataclass
class RunContext:
    """What code running inside a task run can ask about its task."""

    task_id: str
    run_id: str
    json_args: Any
    workspace_id: int
    orch_id: str
    orch_sha: str
    owner_id: str
    debug: bool = False

    def env(self) -> dict[str, str]:
        """Environment variables of the run (the platform's ``extra_env_vars`` + ``WALLAROO_TASK_ID``)."""
        return {
            "WALLAROO_TASK_ID": self.task_id,
            "TASK_ID": self.task_id,
            "ORCH_ID": self.orch_id,
            "ORCH_OWNER_ID": self.owner_id,
            "ORCH_SHA": self.orch_sha,
            "TASK_DEBUG": "true" if self.debug else "false",
            "MINIO_URL": MINIO_URL,
        }


_current_run: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar(
    "wallaroo_emulator_current_run", default=None
)


def current_run() -> RunContext | None:
    """The task run whose code is executing now, if any."""
    return _current_run.get()


def in_task() -> bool:
    return _current_run.get() is not None


def task_args() -> Any:
    """The running task's ``json_args`` (a copy); outside a task, the SDK's ``FileNotFoundError``."""
    run = _current_run.get()
    if run is None:
        raise FileNotFoundError(2, "No such file or directory", ARGUMENTS_FILE)
    return copy.deepcopy(run.json_args)


class RunLog:
    """The log lines of one run, in CRI format, stamped by the virtual clock."""

    def __init__(self, clock: Clock, lines: list[str]) -> None:
        self.clock = clock
        self.lines = lines

    def add(self, stream: str, text: str, tag: str = "F") -> None:
        self.lines.append(f"{format_log_time(self.clock.now())} {stream} {tag} {text}")


#: Longest log record a container runtime writes (characters here; containerd's 16 KiB): a longer
#: line becomes ``P`` (partial) records of this size, then the ``F`` record that ends it.
CRI_MAX_LINE = 16 * 1024


class CriStream:
    """One output stream of a run turned into CRI records, in linear time.

    Complete lines become ``F`` records; text without a newline waits (as a list of pieces, never
    re-joined per write) until a newline, :data:`CRI_MAX_LINE` characters (a ``P`` record) or
    :meth:`finish`. ``replace=(old, new)`` rewrites a path in every record (an isolated run's
    working directory reads ``/home/jovyan``). :meth:`feed` takes bytes (UTF-8, undecodable
    bytes replaced), :meth:`feed_text` text.
    """

    def __init__(self, log: RunLog, stream: str, replace: tuple[str, str] | None = None) -> None:
        import codecs

        self._log = log
        self._stream = stream
        self._replace = replace
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending: list[str] = []
        self._pending_len = 0

    def _emit(self, text: str, tag: str = "F") -> None:
        if self._replace is not None and self._replace[0] in text:
            text = text.replace(*self._replace)
        self._log.add(self._stream, text, tag)

    def feed(self, data: bytes) -> None:
        self.feed_text(self._decoder.decode(data))

    def feed_text(self, text: str) -> None:
        start = 0
        while True:
            newline = text.find("\n", start)
            if newline < 0:
                break
            piece = text[start:newline]
            if self._pending:
                self._pending.append(piece)
                piece = "".join(self._pending)
                self._pending, self._pending_len = [], 0
            while len(piece) >= CRI_MAX_LINE:  # a line of exactly the limit: P, then an empty F (containerd)
                self._emit(piece[:CRI_MAX_LINE], "P")
                piece = piece[CRI_MAX_LINE:]
            self._emit(piece)
            start = newline + 1
        rest = text[start:] if start else text
        if rest:
            self._pending.append(rest)
            self._pending_len += len(rest)
            if self._pending_len >= CRI_MAX_LINE:
                joined = "".join(self._pending)
                while len(joined) >= CRI_MAX_LINE:
                    self._emit(joined[:CRI_MAX_LINE], "P")
                    joined = joined[CRI_MAX_LINE:]
                self._pending = [joined] if joined else []
                self._pending_len = len(joined)

    def finish(self) -> None:
        tail = self._decoder.decode(b"", final=True)
        if tail:
            self.feed_text(tail)
        if self._pending:
            self._emit("".join(self._pending))
            self._pending, self._pending_len = [], 0


class _CapturedStream(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` of a run: complete lines go to the run log."""

    def __init__(self, log: RunLog, stream: str, passthrough: Any) -> None:
        super().__init__()
        self._log = log
        self._stream = stream
        self._passthrough = passthrough
        self._cri = CriStream(log, stream)
        self._active = True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def name(self) -> str:
        return f"<{self._stream}>"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not self._active:
            return self._passthrough.write(text) if self._passthrough is not None else len(text)
        self._cri.feed_text(text)
        return len(text)

    def flush(self) -> None:
        if not self._active and self._passthrough is not None:
            self._passthrough.flush()

    @property
    def buffer(self) -> _BinaryView:
        """Bytes written here are decoded (UTF-8) into the text stream, as ``sys.stdout.buffer``."""
        return _BinaryView(self)

    def finish(self) -> None:
        self._cri.finish()
        self._active = False


class _BinaryView(io.RawIOBase):
    def __init__(self, text: _CapturedStream) -> None:
        super().__init__()
        self._text = text

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:  # type: ignore[override]
        raw = bytes(data)
        self._text.write(raw.decode("utf-8", errors="replace"))
        return len(raw)


@dataclass
class RunOutcome:
    status: str
    error: str | None = None
    exit_code: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _user_traceback(exc: BaseException, extracted: ExtractedOrchestration) -> list[str]:
    """Format ``exc`` as ``python main.py`` would on the platform: frames from the entry point's on.

    A syntax error of the entry point itself is shown as Python shows it (no ``Traceback``
    header); paths inside the extracted archive read as under ``/home/jovyan``, so logs do not
    depend on where the emulator extracted it.
    """
    root = str(extracted.root)
    return [line.replace(root, PLATFORM_HOME) for line in traceback_lines(exc, extracted.code_filename)]


def traceback_lines(exc: BaseException, filename: str) -> list[str]:
    """The lines of ``exc``'s traceback from the first frame of ``filename`` (the entry point) on;
    a syntax error of that file itself as Python shows it, with no ``Traceback`` header."""
    tb = exc.__traceback__
    start = tb
    while start is not None and start.tb_frame.f_code.co_filename != filename:
        start = start.tb_next
    if start is None and isinstance(exc, SyntaxError) and exc.filename == filename:
        text = "".join(traceback.format_exception_only(type(exc), exc))
    else:
        text = "".join(traceback.format_exception(type(exc), exc, start if start is not None else tb))
    return text.rstrip("\n").split("\n")


def closing_line(outcome: RunOutcome, timeout: object) -> str:
    """The platform's last ``WALLAROO:`` log line of a run, by how it stopped."""
    stop = outcome.extra.get("stopped")
    if stop == "timeout":
        return f"WALLAROO: Task run stopped: timeout of {timeout} seconds reached. Status: {outcome.status}"
    if stop == "enclosing":
        return f"WALLAROO: Task run stopped: an enclosing run reached its timeout. Status: {outcome.status}"
    return f"WALLAROO: Task run complete. Status: {outcome.status}"


def _restore_environ(saved: dict[str, str]) -> None:
    current = os.environ
    for key in [k for k in current if k not in saved]:
        del current[key]
    for key, value in saved.items():
        if current.get(key) != value:
            current[key] = value


def execute(
    extracted: ExtractedOrchestration,
    context: RunContext,
    *,
    clock: Clock,
    log_lines: list[str],
    profile: str = "2023.2",
    timeout: float | None = None,
) -> RunOutcome:
    """Run ``extracted``'s entry point once for ``context``; never raises for user-code errors.

    ``log_lines`` receives the run's CRI log lines as they are written (so ``logs()`` read
    during a nested run shows the lines so far). When the run was stopped by something that must
    travel on (an enclosing run's deadline, ``KeyboardInterrupt``), the exception is in
    ``outcome.extra["reraise"]``: the caller records the outcome, then raises it.
    """
    log = RunLog(clock, log_lines)
    for line in FRAMING_START:
        log.add("stdout", line)
    newest = profile != "2023.2"
    label = f"timeout of task {context.task_id} run {context.run_id}"
    deadline = clock.now() + _dt.timedelta(seconds=float(timeout)) if timeout is not None else None

    saved_env = dict(os.environ)
    saved_path = list(sys.path)
    saved_argv = list(sys.argv)
    saved_main = sys.modules.get("__main__")
    saved_modules = set(sys.modules)
    saved_stdout, saved_stderr, saved_stdin = sys.stdout, sys.stderr, sys.stdin
    root_logger = logging.getLogger()
    saved_log_handlers, saved_log_level = list(root_logger.handlers), root_logger.level
    warning_state = warnings.catch_warnings()
    warning_state.__enter__()
    try:
        saved_cwd: str | None = os.getcwd()
    except OSError:  # pragma: no cover - the caller's directory vanished
        saved_cwd = None
    out = _CapturedStream(log, "stdout", saved_stdout)
    err = _CapturedStream(log, "stderr", saved_stderr)
    token = _current_run.set(context)
    outcome = RunOutcome("success")
    entry_dir = str(extracted.entry_dir)
    filename = extracted.code_filename
    module = types.ModuleType("__main__")
    module.__dict__.update({"__file__": str(extracted.entry_path), "__builtins__": builtins})
    pending_exc: BaseException | None = None
    try:
        os.environ.update(context.env())
        sys.path.insert(0, entry_dir)
        sys.argv = [filename]
        os.chdir(entry_dir)
        sys.modules["__main__"] = module
        sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO()  # a container has no stdin
        root_logger.handlers[:] = []  # as in a fresh process: basicConfig() takes effect
        root_logger.setLevel(logging.WARNING)
        try:
            code = extracted.code()
            linecache.cache[filename] = extracted.linecache_entry()
            if deadline is not None:
                with clock.deadline(deadline, label):
                    exec(code, module.__dict__)
            else:
                exec(code, module.__dict__)
        except SystemExit as exc:
            code_value = exc.code
            if code_value is None or code_value == 0:
                outcome = RunOutcome("success", exit_code=0)
            elif isinstance(code_value, int):
                outcome = RunOutcome("failure", error=f"exit status {code_value}", exit_code=code_value)
            else:
                print(code_value, file=err)
                outcome = RunOutcome("failure", error=str(code_value), exit_code=1)
        except DeadlineExceeded as exc:
            if exc.label == label:
                outcome = RunOutcome("timed_out" if newest else "failure", error=f"timed out after {timeout}s",
                                     extra={"stopped": "timeout"})
            else:
                outcome = RunOutcome("killed" if newest else "failure", error="stopped by an enclosing run's timeout",
                                     extra={"stopped": "enclosing"})
                pending_exc = exc
        except KeyboardInterrupt as exc:
            for line in _user_traceback(exc, extracted):
                err.write(line + "\n")
            outcome = RunOutcome("failure", error="KeyboardInterrupt", exit_code=1)
            pending_exc = exc
        except BaseException as exc:  # noqa: BLE001 - user code may raise anything
            for line in _user_traceback(exc, extracted):
                err.write(line + "\n")
            outcome = RunOutcome("failure", error=f"{type(exc).__name__}: {exc}", exit_code=1)
    finally:
        out.finish()
        err.finish()
        sys.stdout, sys.stderr, sys.stdin = saved_stdout, saved_stderr, saved_stdin
        root_logger.handlers[:] = saved_log_handlers
        root_logger.setLevel(saved_log_level)
        warning_state.__exit__(None, None, None)
        _current_run.reset(token)
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
        else:  # pragma: no cover - there is always a __main__
            sys.modules.pop("__main__", None)
        root = str(extracted.root)
        for name in set(sys.modules) - saved_modules:
            mod_file = getattr(sys.modules.get(name), "__file__", None) or ""
            if mod_file.startswith(root):
                del sys.modules[name]
        if saved_cwd is not None:
            try:
                os.chdir(saved_cwd)
            except OSError:  # pragma: no cover
                pass
        sys.argv = saved_argv
        sys.path[:] = saved_path
        _restore_environ(saved_env)
    log.add("stdout", closing_line(outcome, timeout))
    if pending_exc is not None:
        outcome.extra["reraise"] = pending_exc
    return outcome
