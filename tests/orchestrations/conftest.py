"""Fixtures for orchestration/task tests: a bare platform (clock + ids + stores) and zip builders."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from emulator import clock as clock_module
from emulator.clock import Clock
from emulator.ids import IdGenerator
from emulator.wallaroo.orchestrations import PackagingTimings
from emulator.wallaroo.tasks import TaskTimings, stores_for

REPO = Path(__file__).resolve().parents[2]
TUTORIAL_ORCHESTRATION = REPO / "tutorial_replay" / "assets" / "orchestration"


def make_zip(files: dict[str, str | bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    """A zip archive holding ``files`` (archive path → content) and optional symlink members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2023, 5, 10, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name, date_time=(2023, 5, 10, 0, 0, 0))
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def zip_folder(folder: Path) -> bytes:
    return make_zip({p.relative_to(folder).as_posix(): p.read_bytes()
                     for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts})


class BarePlatform(SimpleNamespace):
    """Just what the orchestration/task backend needs from an emulator, with its clock active."""

    def upload(self, files: dict[str, str | bytes], *, workspace_id: int = 1, name: str = "orch", ready: bool = True):
        record = self.orchestrations.upload(make_zip(files), workspace_id=workspace_id, name=name,
                                            file_name=f"{name}.zip", owner_id="owner-1")
        if ready:
            self.clock.advance(self.orchestrations.timings.pending_seconds + self.orchestrations.timings.packaging_seconds)
        return record


def _bare(sdk: str, seed: int = 0, task_runs: str | None = None) -> BarePlatform:
    emu = BarePlatform(clock=Clock(), ids=IdGenerator(seed), sdk=sdk,
                       wallaroo=SimpleNamespace(orchestrations=None, tasks=None))
    if task_runs is not None:  # else the stores' default (isolated)
        emu.task_runs = task_runs
    emu.orchestrations, emu.tasks = stores_for(emu)
    return emu


@pytest.fixture
def bare_platform() -> Callable[..., BarePlatform]:
    """:func:`_bare` for tests that build their own (a test module importing ``tests.…`` would find
    whatever top-level ``tests`` package a dependency installed)."""
    return _bare


@pytest.fixture(params=["2023.2", "2026.1"])
def platform(request: pytest.FixtureRequest) -> Iterator[BarePlatform]:
    """A bare platform for each SDK profile, its clock the active virtual time."""
    emu = _bare(request.param)
    clock_module.activate(emu.clock)
    try:
        yield emu
    finally:
        clock_module.deactivate(emu.clock)
        emu.orchestrations.close()


@pytest.fixture(name="make_zip")
def make_zip_fixture():
    """The :func:`make_zip` builder (fixtures avoid importing this conftest by module name)."""
    return make_zip


@pytest.fixture(name="zip_folder")
def zip_folder_fixture():
    return zip_folder


@pytest.fixture
def bare_platform_factory() -> Iterator:
    """Build bare platforms (one active at a time is up to the test)."""
    made: list[BarePlatform] = []

    def build(sdk: str = "2023.2", seed: int = 0, task_runs: str | None = None) -> BarePlatform:
        emu = _bare(sdk, seed, task_runs)
        made.append(emu)
        return emu

    yield build
    for emu in made:
        emu.orchestrations.close()


__all__ = ["make_zip", "zip_folder", "PackagingTimings", "TaskTimings", "TUTORIAL_ORCHESTRATION"]
