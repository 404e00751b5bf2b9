"""``%load_ext emulator``: an emulator for an interactive IPython or Jupyter session.

Loading the extension starts a fresh :class:`~emulator.Emulator` (active until the extension is
unloaded or ``%emulator stop``) and adds one line magic, ``%emulator``, so a tutorial can be
replayed cell by cell::

    %load_ext emulator
    %emulator seed bigquery_houseprice.seed.yaml     # a fresh emulator built from the seed, applied here
    import wallaroo                                  # the emulated platform
    %emulator advance 10m                            # virtual time: scheduled tasks fire on the way
    %emulator status

Subcommands (``%emulator help`` lists them):

* ``status`` (also a bare ``%emulator``): SDK profile, virtual time, projects, what exists;
* ``seed FILE [--workdir DIR] [--sdk P] [--start ISO]``: replace the emulator by a fresh one built
  from the seed (its ``start``, ``sdk``, ``seed``, ``project``) and apply the seed into ``DIR``
  (default: the current directory), as ``python -m tutorial_replay run --seed`` does;
* ``advance DURATION``: move the virtual clock on (``90s``, ``10m``, ``1h30m``, ``2d``, ``1.5h``,
  ``01:30:00`` or plain seconds), running due work (packaging, deployments, scheduled runs);
* ``tasks``: orchestrations, tasks and task runs with their logs (:mod:`emulator.wallaroo.task_report`);
* ``start [--sdk P] [--start ISO] [--seed N] [--project NAME]``, ``stop``, ``reset`` (a fresh
  emulator with the same arguments, the last seed file applied again).

google-cloud-bigquery's ``%%bigquery`` cell magic works against the active emulator: it finds
its project and credentials through application-default credentials, which the emulator
provides (the magic's cached project and credentials are dropped whenever the emulator changes).
The magic reads results through the Storage Read API, which the emulator answers in-process
(:mod:`emulator.bigquery.storage`); should that package be unimportable (``sys.modules`` entry
``None``), the magic, which otherwise insists on it, is given ``--use_rest_api``.

A Jupyter kernel has threads of its own that must keep real time while user code runs on the
virtual clock: their ``time.sleep`` calls (ipykernel's parent poller sleeps in a loop) stay real
sleeps, and when the kernel's modules are loaded before the first emulator of the process,
their time reads (asyncio's and tornado's event loops) are kept on real time too.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator.emulator import Emulator, EmulatorError

#: Modules of a kernel (and its event loops) whose sleeps and time reads stay real.
KERNEL_MODULES = (
    "ipykernel", "jupyter_client", "jupyter_core", "zmq", "tornado", "asyncio", "traitlets",
    "comm", "debugpy", "IPython.core.history", "IPython.core.async_helpers",
)

_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|sec|min|s|m|h|d|w)", re.IGNORECASE)
_CLOCK_TEXT = re.compile(r"^(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$")


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``10m``, ``1h30m``, ``2d``, ``1.5h``, ``500ms``, ``01:30:00`` or ``45``."""
    value = text.strip()
    if value.startswith("-"):
        raise ValueError(f"{text!r}: the virtual clock only moves forward")
    try:
        seconds = float(value)
    except ValueError:
        clock = _CLOCK_TEXT.match(value)
        if clock:
            hours, minutes, secs = clock.groups()
            seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs or 0)
        else:
            compact = value.replace(" ", "")
            parts = _DURATION_PART.findall(compact)
            if not parts or "".join(n + u for n, u in parts).lower() != compact.lower():
                raise ValueError(
                    f"{text!r} is not a duration (examples: 90s, 10m, 1h30m, 2d, 1.5h, 01:30:00, 45)"
                ) from None
            seconds = sum(float(n) * _UNITS[u.lower()] for n, u in parts)
    if seconds < 0 or seconds != seconds:
        raise ValueError(f"{text!r}: the virtual clock only moves forward")
    return seconds


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise _ArgumentError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> Any:  # --help
        if message:
            print(message, end="")
        raise _ArgumentError("")


def _subparsers() -> dict[str, _Parser]:
    def parser(name: str, description: str) -> _Parser:
        return _Parser(prog=f"%emulator {name}", description=description, add_help=True)

    seed = parser("seed", "Replace the emulator by a fresh one built from a seed file, and apply the seed.")
    seed.add_argument("file")
    seed.add_argument("--workdir", default=None, help="where the seed writes its files (default: the current directory)")
    seed.add_argument("--sdk", default=None)
    seed.add_argument("--start", default=None)
    start = parser("start", "Start a fresh emulator (when none is active).")
    start.add_argument("--sdk", default=None)
    start.add_argument("--start", default=None)
    start.add_argument("--seed", type=int, default=None)
    start.add_argument("--project", default=None)
    return {"seed": seed, "start": start}


HELP = """\
%emulator status                      SDK profile, virtual time, projects and what exists (the default)
%emulator seed FILE [--workdir DIR] [--sdk P] [--start ISO]
                                      a fresh emulator built from the seed, the seed applied into DIR
%emulator advance DURATION            move the virtual clock on (90s, 10m, 1h30m, 2d, 01:30:00, seconds)
%emulator tasks                       orchestrations, tasks and runs with their logs
%emulator start [--sdk P] [--start ISO] [--seed N] [--project NAME]
%emulator stop | reset                stop the emulator; or start afresh (same arguments, same seed file)
"""


class Session:
    """The emulator of one interactive session and what ``reset`` needs to rebuild it."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.emu: Emulator | None = None
        self.arguments: dict[str, Any] = {}
        self.seed_file: Path | None = None
        self.seed_workdir: Path | None = None
        self.seed_options: dict[str, str | None] = {}
        self._restore_sleep: Callable[[], None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, **arguments: Any) -> Emulator:
        if self.emu is not None:
            raise _ArgumentError("an emulator is already active in this session: %emulator reset or stop first")
        emu = Emulator(**arguments)
        emu.start()
        self.emu = emu
        self.arguments = arguments
        self._restore_sleep = real_sleep_for(KERNEL_MODULES)
        _forget_bigquery_magic_context()
        return emu

    def stop(self) -> None:
        if self._restore_sleep is not None:
            self._restore_sleep()
            self._restore_sleep = None
        emu, self.emu = self.emu, None
        if emu is not None:
            emu.close()
        _forget_bigquery_magic_context()

    def apply_seed(self, file: str, workdir: str | None, sdk: str | None, start: str | None) -> list[str]:
        from tutorial_replay.seed import apply_seed, load_seed

        path = Path(file).expanduser()
        seed = load_seed(path)
        target = Path(workdir).expanduser() if workdir else Path.cwd()
        target.mkdir(parents=True, exist_ok=True)
        self.stop()
        emu = self.start(**seed.emulator_kwargs(sdk=sdk, start=start))
        said: list[str] = []
        apply_seed(seed, emu, target, log=said.append)
        self.seed_file, self.seed_workdir = path.resolve(), target.resolve()
        self.seed_options = {"sdk": sdk, "start": start}
        return said

    def reset(self) -> None:
        if self.seed_file is not None:
            options = self.seed_options
            self.apply_seed(str(self.seed_file), str(self.seed_workdir), options["sdk"], options["start"])
        else:
            arguments = dict(self.arguments)
            self.stop()
            self.start(**arguments)

    # -- the magic ----------------------------------------------------------------------------
    def magic(self, line: str) -> None:
        from IPython.core.error import UsageError

        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%emulator: {exc}") from None
        command, rest = (words[0], words[1:]) if words else ("status", [])
        try:
            self._dispatch(command, rest)
        except _ArgumentError as exc:
            if str(exc):
                raise UsageError(str(exc)) from None
        except (ValueError, EmulatorError) as exc:
            raise UsageError(f"%emulator {command}: {exc}") from None

    def _dispatch(self, command: str, rest: list[str]) -> None:
        parsers = _subparsers()
        if command in ("help", "-h", "--help"):
            print(HELP, end="")
            return
        if command == "status":
            print(self.status())
            return
        if command == "stop":
            was = self.emu is not None
            self.stop()
            print("wallaroo-emulator stopped" if was else "wallaroo-emulator: no emulator was active")
            return
        if command == "reset":
            self.reset()
            print(f"wallaroo-emulator reset: {self.headline()}")
            return
        if command == "tasks":
            from emulator.wallaroo.task_report import describe

            print(describe(self._active()), end="")
            return
        if command == "advance":  # not argparse: "-5m" is a (refused) duration, not an option
            if not rest:
                raise _ArgumentError("%emulator advance: give a duration (90s, 10m, 1h30m, 2d, 01:30:00, seconds)")
            seconds = parse_duration(" ".join(rest))
            emu = self._active()
            emu.clock.advance(seconds)
            print(f"virtual time {_iso(emu.clock.now())}")
            return
        if command not in parsers:
            raise _ArgumentError(f"%emulator: unknown subcommand {command!r} (%emulator help lists them)")
        args = parsers[command].parse_args(rest)
        if command == "start":
            arguments = {k: v for k, v in vars(args).items() if v is not None}
            self.start(**arguments)
            print(f"wallaroo-emulator started: {self.headline()}")
        elif command == "seed":
            from tutorial_replay.seed import SeedError

            try:
                said = self.apply_seed(args.file, args.workdir, args.sdk, args.start)
            except SeedError as exc:
                raise _ArgumentError(str(exc)) from None
            except OSError as exc:
                raise _ArgumentError(f"%emulator seed: {exc}") from None
            for line in said:
                print(line)
            print(f"wallaroo-emulator seeded from {self.seed_file.name}: {self.headline()}")

    def _active(self) -> Emulator:
        if self.emu is None:
            raise _ArgumentError("%emulator: no emulator is active (%emulator start, or %emulator seed FILE)")
        return self.emu

    def headline(self) -> str:
        emu = self._active()
        return (f"SDK {emu.sdk}, virtual time {_iso(emu.clock.now())}, project {emu.adc_project}, "
                f"id seed {emu.seed}")

    def status(self) -> str:
        if self.emu is None:
            return "wallaroo-emulator: no emulator is active (%emulator start, or %emulator seed FILE)"
        emu = self.emu
        lines = [
            f"wallaroo-emulator active: SDK profile {emu.sdk}, id seed {emu.seed}",
            f"virtual time {_iso(emu.clock.now())} (started at {_iso(emu.clock.start)})",
            f"default project {emu.adc_project} (bigquery.Client() and %%bigquery use it)",
        ]
        if self.seed_file is not None:
            lines.append(f"seed {self.seed_file} applied into {self.seed_workdir}")
        datasets = [f"{d.project}.{d.dataset}" for d in _all_datasets(emu)]
        lines.append(f"BigQuery datasets: {', '.join(datasets) if datasets else 'none'}")
        platform = emu.wallaroo
        if platform is not None:
            deployed = sum(1 for p in platform.pipelines.values() if p.deployment is not None)
            orchestrations = len(platform.orchestrations) if platform.orchestrations is not None else 0
            tasks = len(platform.tasks) if platform.tasks is not None else 0
            lines.append(
                f"Wallaroo: {len(platform.workspaces)} workspaces, {len(platform.pipelines)} pipelines "
                f"({deployed} deployed), {orchestrations} orchestrations, {tasks} tasks"
            )
        pending = emu.clock.next_due()
        if pending is not None:
            lines.append(f"next scheduled work at {_iso(pending)}")
        return "\n".join(lines)


def _all_datasets(emu: Emulator) -> list[Any]:
    backend = emu.bigquery
    projects = backend.list_projects()
    found = []
    for project in projects:
        found.extend(backend.list_datasets(project))
    return found


def _iso(instant: Any) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def real_sleep_for(prefixes: tuple[str, ...]) -> Callable[[], None]:
    """While installed, ``time.sleep`` called from modules under ``prefixes`` is a real sleep.

    Under an active emulator ``time.sleep`` advances the virtual clock at once, on any thread;
    a kernel's own threads (ipykernel's parent poller sleeps one second in a loop) would spin
    and push virtual time forward. Returns the function that puts the previous ``time.sleep``
    back (if nothing replaced it meanwhile).
    """
    from emulator.clock import real_sleep

    previous = time.sleep

    def sleep(seconds: float) -> None:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.startswith(prefixes):
            real_sleep(seconds)
        else:
            previous(seconds)

    time.sleep = sleep  # type: ignore[assignment]

    def restore() -> None:
        if time.sleep is sleep:
            time.sleep = previous  # type: ignore[assignment]

    return restore


def bigquery_magic_on_rest(lines: list[str]) -> list[str]:
    """IPython input transformer: ``%%bigquery ...`` gets ``--use_rest_api`` while Storage is hidden.

    The magic reads results through the Storage Read API unless told ``--use_rest_api``, and
    fails ("install the missing google-cloud-bigquery-storage") when the package cannot be
    imported (its ``sys.modules`` entry set to ``None``). Other cells, and cells that already say
    how to read, pass unchanged.
    """
    if not lines or sys.modules.get("google.cloud.bigquery_storage", False) is not None:
        return lines
    first = lines[0]
    if not first.lstrip().startswith("%%bigquery") or "--use_rest_api" in first or "--use_bqstorage_api" in first:
        return lines
    head = first.rstrip("\n")
    return [head + " --use_rest_api" + first[len(head):], *lines[1:]]


def _forget_bigquery_magic_context() -> None:
    """Make ``%%bigquery`` look its project and credentials up again (the emulator changed)."""
    for name in ("google.cloud.bigquery.magics.magics", "bigquery_magics.config", "bigquery_magics"):
        module = sys.modules.get(name)
        context = getattr(module, "context", None)
        if context is None:
            continue
        for attribute in ("project", "credentials"):
            try:
                setattr(context, attribute, None)
            except Exception:  # noqa: BLE001 - another version's context: leave it
                pass


_sessions: dict[int, Session] = {}


def load(shell: Any) -> None:
    """``%load_ext emulator``."""
    from IPython.core.magic import Magics, line_magic, magics_class

    key = id(shell)
    if key in _sessions:
        print("wallaroo-emulator is already loaded: " + _sessions[key].status().splitlines()[0])
        return
    session = Session(shell)

    @magics_class
    class EmulatorMagics(Magics):
        @line_magic
        def emulator(self, line: str) -> None:
            """Control the session's wallaroo-emulator: %emulator help."""
            session.magic(line)

    from emulator.emulator import active_emulator

    if active_emulator() is not None:
        raise RuntimeError("another Emulator is already active in this process; leave it before %load_ext emulator")
    session.start()
    _sessions[key] = session
    shell.register_magics(EmulatorMagics)
    cleanup = getattr(shell, "input_transformers_cleanup", None)
    if cleanup is not None and bigquery_magic_on_rest not in cleanup:
        cleanup.append(bigquery_magic_on_rest)
    print(f"wallaroo-emulator started: {session.headline()} (%emulator help)")


def unload(shell: Any) -> None:
    """``%unload_ext emulator``."""
    session = _sessions.pop(id(shell), None)
    if session is not None:
        session.stop()
        magics = shell.magics_manager.magics.get("line", {})
        magics.pop("emulator", None)
        cleanup = getattr(shell, "input_transformers_cleanup", [])
        if bigquery_magic_on_rest in cleanup:
            cleanup.remove(bigquery_magic_on_rest)


def session_for(shell: Any) -> Session | None:
    """The extension's session of ``shell`` (``None`` when the extension is not loaded)."""
    return _sessions.get(id(shell))
