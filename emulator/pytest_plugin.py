"""pytest fixtures for code that uses Wallaroo and BigQuery: a fresh emulator per test.

Registered through the ``pytest11`` entry point ``wallaroo_emulator``, so a project that installs
``wallaroo-emulator`` gets these fixtures without any conftest wiring (docs/pytest-plugin.md):

* ``emulator`` — a fresh, entered :class:`~emulator.Emulator` per test;
* ``emulator_clock`` — its virtual clock;
* ``emulator_workdir`` — a per-test folder where seeds write their files;
* ``bigquery_client`` — a real ``google.cloud.bigquery.Client`` served by the emulator;
* ``wallaroo_client`` — ``wallaroo.Client()`` under the emulator;
* ``apply_seed`` — apply a seed file or dict to the test's emulator;
* ``upload_orchestration_from_folder`` — zip a folder deterministically and upload it.

Markers: ``wallaroo_sdk(profile)``, ``emulator_start(instant)``, ``emulator_seed(path_or_dict)``,
``bigquery_project(project)``. Options: ``--wallaroo-sdk``, ``--emulator-start``.
Precedence for the SDK profile and start instant: marker, then the ``emulator_seed`` seed, then
the command-line option, then the emulator's default (``2023.2``, 2023-05-10T21:00:00Z).

Also, for the session: a lazy ``wallaroo`` module, so test modules can ``import wallaroo`` at
their top (:mod:`emulator.wallaroo.lazy`); and, when a test that used an emulator fails, a
report section with that emulator's virtual time, orchestrations, tasks and task runs (log tails
with tracebacks): :mod:`emulator.wallaroo.task_report`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from emulator.clock import Clock
    from emulator.emulator import Emulator

_MARKERS = (
    "wallaroo_sdk(profile): SDK of the `emulator` fixture: 2023.2, 2026.1 or installed",
    "emulator_start(instant): ISO instant the `emulator` fixture's clock starts at",
    "emulator_seed(seed, workdir=None): seed file path or dict the `emulator` fixture is built from and "
    "seeded with (files go to `emulator_workdir` unless workdir is given)",
    "bigquery_project(project): project of the `bigquery_client` fixture",
)

_state: dict[str, Any] = {"pinned": False, "lazy": False, "unsubscribe": None, "item": None}
_USED = pytest.StashKey[list]()
_OWNS = pytest.StashKey[bool]()  # this config installed the session-wide hooks (not a nested pytester run)
REPORT_SECTION = "wallaroo-emulator: virtual time, orchestrations and task runs"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wallaroo_emulator", "wallaroo-emulator fixtures")
    group.addoption(
        "--wallaroo-sdk",
        dest="wallaroo_sdk",
        default=None,
        help="SDK of the `emulator` fixture: the facade profiles 2023.2 or 2026.1 (default 2023.2), or "
             "installed (the real wallaroo package, served over the emulated wire)",
    )
    group.addoption(
        "--emulator-start",
        dest="emulator_start",
        default=None,
        help="ISO instant the `emulator` fixture's clock starts at (default 2023-05-10T21:00:00Z)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in _MARKERS:
        config.addinivalue_line("markers", line)
    from emulator.emulator import on_start
    from emulator.wallaroo import lazy

    if _state["unsubscribe"] is None:
        _state["unsubscribe"] = on_start(_note_emulator)
        _state["lazy"] = lazy.install()
        config.stash[_OWNS] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if _state["pinned"]:
        from emulator.clock import release_time_patches

        release_time_patches()
        _state["pinned"] = False
    if config.stash.get(_OWNS, False) and _state["unsubscribe"] is not None:
        _state["unsubscribe"]()
        _state["unsubscribe"] = None
        if _state["lazy"]:
            from emulator.wallaroo import lazy

            lazy.uninstall()
            _state["lazy"] = False


# -- failure reports ----------------------------------------------------------------------------


def _note_emulator(emu: Emulator) -> None:
    """Remember every emulator started while a test runs (fixture, ``with``, decorator)."""
    item = _state["item"]
    if item is not None:
        used = item.stash.setdefault(_USED, [])
        if emu not in used:
            used.append(emu)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    previous, _state["item"] = _state["item"], item  # a nested (pytester) session restores the outer item
    try:
        return (yield)
    finally:
        _state["item"] = previous


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    used = item.stash.get(_USED, [])
    if report.failed and report.when in ("setup", "call") and used:
        from emulator.wallaroo.task_report import describe

        blocks = []
        for number, emu in enumerate(used, 1):
            try:
                text = describe(emu)
            except Exception as exc:  # noqa: BLE001 - a report must never hide the test's own failure
                text = f"(could not describe the emulator: {type(exc).__name__}: {exc})\n"
            head = f"emulator {number} of {len(used)}: " if len(used) > 1 else ""
            blocks.append(head + text)
        report.sections.append((REPORT_SECTION, "\n".join(blocks)))
    return report


def _pin_time_patches() -> None:
    """Install the process-wide time patches once (first emulator of the session), keeping them."""
    if not _state["pinned"]:
        from emulator.clock import keep_time_patches

        keep_time_patches()  # pytest's durations stay real: _pytest.timing bound perf_counter at import
        _state["pinned"] = True


def _marker_arg(request: pytest.FixtureRequest, name: str) -> Any:
    marker = request.node.get_closest_marker(name)
    if marker is None:
        return None
    if not marker.args:
        raise pytest.UsageError(f"@pytest.mark.{name} needs an argument")
    return marker.args[0]


def _option(config: pytest.Config, name: str) -> Any:
    try:
        return config.getoption(name)
    except (ValueError, AttributeError):  # plugin registered after option parsing
        return None


@pytest.fixture
def emulator_workdir(tmp_path: Path) -> Path:
    """Function scope, ``pathlib.Path``: ``tmp_path / "work"``, where seeds write key files and files.

    The current directory is not changed; use ``monkeypatch.chdir(emulator_workdir)`` for code
    that opens relative paths.
    """
    path = tmp_path / "work"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def emulator(request: pytest.FixtureRequest, emulator_workdir: Path) -> Iterator[Emulator]:
    """Function scope, :class:`emulator.Emulator`: a fresh emulator, entered for the test, closed after.

    Defaults: SDK ``2023.2``, start 2023-05-10T21:00:00Z, id seed 0. Honours the markers
    ``wallaroo_sdk``, ``emulator_start`` and ``emulator_seed`` and the options ``--wallaroo-sdk``
    and ``--emulator-start``.
    """
    from emulator.emulator import Emulator

    _pin_time_patches()
    seed_marker = request.node.get_closest_marker("emulator_seed")
    seed = None
    kwargs: dict[str, Any] = {}
    if seed_marker is not None:
        from tutorial_replay.seed import load_seed

        if not seed_marker.args:
            raise pytest.UsageError("@pytest.mark.emulator_seed needs a seed file path or dict")
        source = seed_marker.args[0]
        here = Path(str(request.node.path)).parent
        if isinstance(source, Mapping):
            seed = load_seed(source, base_dir=here)
        else:
            seed = load_seed(here / source)
        kwargs = seed.emulator_kwargs()
    for key, marker, option in (
        ("sdk", "wallaroo_sdk", "wallaroo_sdk"),
        ("start", "emulator_start", "emulator_start"),
    ):
        value = _marker_arg(request, marker)
        if value is None and key not in kwargs:
            value = _option(request.config, option)
        if value is not None:
            kwargs[key] = value
    emu = Emulator(**kwargs)
    try:
        if seed is not None:
            seed.apply(emu, seed_marker.kwargs.get("workdir", emulator_workdir))  # type: ignore[union-attr]
        with emu:
            yield emu
    finally:
        emu.close()


@pytest.fixture
def emulator_clock(emulator: Emulator) -> Clock:
    """Function scope, :class:`emulator.clock.Clock`: the test emulator's virtual clock."""
    return emulator.clock


@pytest.fixture
def bigquery_client(request: pytest.FixtureRequest, emulator: Emulator) -> Any:
    """Function scope, ``google.cloud.bigquery.Client``: a real client served by the emulator.

    Project: the ``bigquery_project`` marker, else the emulator's project (the seed's
    ``project``, default ``wallaroo-emulator``). Anonymous credentials.
    """
    return emulator.bigquery_client(project=_marker_arg(request, "bigquery_project"))


@pytest.fixture
def wallaroo_client(emulator: Emulator) -> Any:
    """Function scope, ``wallaroo.Client``: ``wallaroo.Client()`` of the emulated platform."""
    import wallaroo

    return wallaroo.Client()


@pytest.fixture
def apply_seed(emulator: Emulator, emulator_workdir: Path) -> Callable[..., Any]:
    """Function scope, ``(seed, workdir=None) -> tutorial_replay.seed.Seed``.

    Applies a seed (file path or dict) to the test's emulator: creates its BigQuery datasets and
    tables and writes its key files and files into ``workdir`` (default ``emulator_workdir``).
    Relative row files of a dict seed are looked up from the current directory. The seed's
    ``start``, ``sdk`` and ``seed`` cannot change a running emulator and are ignored here; use
    the ``emulator_seed`` marker for them.
    """
    from tutorial_replay.seed import apply_seed as _apply
    from tutorial_replay.seed import load_seed

    def apply(seed: Any, workdir: str | os.PathLike[str] | None = None) -> Any:
        return _apply(load_seed(seed), emulator, emulator_workdir if workdir is None else workdir)

    return apply


@pytest.fixture
def upload_orchestration_from_folder(emulator: Emulator) -> Callable[..., Any]:
    """Function scope, ``(folder, name=None, file_name=None, client=None) -> Orchestration``.

    Zips ``folder`` with :func:`tutorial_replay.zipfolder.zip_folder` (sorted names, fixed
    timestamps: same folder, same bytes) and uploads it with
    ``client.upload_orchestration(bytes_buffer=..., name=..., file_name=...)``; ``name`` defaults
    to the folder's name, ``file_name`` to ``<name>.zip`` and ``client`` to a new
    ``wallaroo.Client()``.
    """

    def upload(
        folder: str | os.PathLike[str],
        name: str | None = None,
        file_name: str | None = None,
        client: Any = None,
    ) -> Any:
        from tutorial_replay.zipfolder import zip_folder

        data = zip_folder(folder)
        label = name or Path(folder).resolve().name
        if client is None:
            import wallaroo

            client = wallaroo.Client()
        return client.upload_orchestration(
            bytes_buffer=data, name=label, file_name=file_name or f"{label}.zip"
        )

    return upload
