"""The plugin as another project meets it: wallaroo-emulator installed into a fresh virtual
environment (system site packages for the dependencies, ``--no-deps``, offline), a throwaway
project with no conftest, and pytest run in a subprocess.

The package is built from a copy of the sources, so the test also proves the wheel carries what
the plugin and the seeds need at run time (seed schema, model and data assets).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

THROWAWAY_TEST = """
import datetime as dt
import time

import pytest
import wallaroo  # at the module's top: resolved to the active emulator's SDK when used
from wallaroo.object import EntityNotFoundError


def test_fresh_emulator(emulator, emulator_clock):
    assert emulator.sdk == "2023.2"
    start = emulator_clock.now()
    time.sleep(120)
    assert (emulator_clock.now() - start).total_seconds() == 120


@pytest.mark.wallaroo_sdk("2026.1")
@pytest.mark.emulator_start("2024-01-01T00:00:00Z")
def test_markers(emulator):
    assert emulator.sdk == "2026.1"
    assert dt.datetime.now(dt.UTC) == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_seed_and_client(apply_seed, bigquery_client, emulator_workdir):
    apply_seed({"bigquery": [{"project": bigquery_client.project, "datasets": [{"dataset": "d", "tables": [
        {"table": "houses", "schema": [{"name": "tensor", "type": "FLOAT64", "mode": "REPEATED"}],
         "rows": "asset:data/xtest-1k.df.json"}]}]}],
        "files": [{"path": "models/rf_model.onnx", "asset": "models/rf_model.onnx"}]})
    table = bigquery_client.get_table("d.houses")
    assert table.num_rows == 1000
    assert (emulator_workdir / "models" / "rf_model.onnx").stat().st_size > 0


def test_option_profile(request, emulator):
    assert emulator.sdk == (request.config.getoption("wallaroo_sdk") or "2023.2")


def test_module_top_wallaroo(emulator):
    wl = wallaroo.Client()
    with pytest.raises(EntityNotFoundError):
        wl.pipelines_by_name("missing")
"""


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _install_like_a_wheel(source: Path, site_packages: Path) -> None:
    """Copy the packages and write the dist-info (metadata and the pytest11 entry point)."""
    import tomllib

    meta = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    for package in ("emulator", "tutorial_replay"):
        shutil.copytree(source / package, site_packages / package)
    dist = site_packages / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    lines = []
    for group, entries in meta.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in entries.items())
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (dist / "top_level.txt").write_text("emulator\ntutorial_replay\n")
    (dist / "INSTALLER").write_text("tests\n")
    (dist / "RECORD").write_text("")


def _see_running_site_packages(python: Path, root: Path, env: dict[str, str]) -> None:
    """Let the new venv import this interpreter's dependencies.

    ``--system-site-packages`` only reaches the base interpreter's; when the tests run in a venv
    the dependencies live in that venv. Plain path lines in a ``.pth`` add those folders without
    running their own ``.pth`` files, so this checkout's editable install stays invisible.
    """
    import site

    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root, env)
    folders = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib.stdout.strip()) / "zz_running_site_packages.pth").write_text("\n".join(folders) + "\n")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("other_project")
    source = root / "src"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    readme = REPO / "README.md"
    (source / "README.md").write_text(readme.read_text() if readme.exists() else "wallaroo-emulator\n")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("emulator", "tutorial_replay"):
        shutil.copytree(REPO / package, source / package, ignore=ignore)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "VIRTUAL_ENV")}
    env["PIP_NO_INDEX"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], root, env)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    _see_running_site_packages(python, root, env)
    pip_args = ["-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q", str(source)]
    pip = _run([str(python), *pip_args], root, env)
    if pip.returncode != 0:
        # No offline build backend here (setuptools < 68 or no `wheel`): install as a wheel would.
        assert "bdist_wheel" in pip.stderr or "setuptools" in pip.stderr, pip.stdout + pip.stderr
        purelib = _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root, env
        )
        _install_like_a_wheel(source, Path(purelib.stdout.strip()))
    project = root / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_with_emulator.py").write_text(textwrap.dedent(THROWAWAY_TEST))
    return python, project, env


def test_plugin_works_without_conftest(installed):
    python, project, env = installed
    result = _run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "--strict-markers",
            "-p",
            "no:cacheprovider",
            "--durations=0",
            "-vv",
            "tests",
        ],
        project,
        env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
    # pytest's own timing keeps real time although the tests sleep virtual minutes
    durations = [float(m) for m in re.findall(r"^(\d+\.\d+)s (?:setup|call|teardown)", result.stdout, re.M)]
    assert durations and max(durations) < 60, result.stdout
    where = _run(
        [str(python), "-c", "import emulator, tutorial_replay; print(emulator.__file__)"], project, env
    )
    assert str(REPO) not in where.stdout  # the installed copy, not this checkout


PLAIN_NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# Offline replay\n"]},
        {"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["import sys\n", "import wallaroo\n", "from google.cloud import bigquery\n",
                    "\n", "wl = wallaroo.Client()\n", "print(wallaroo.__version__)"]},
        {"cell_type": "code", "id": "c2", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "client = bigquery.Client()  # application-default credentials\n"
                   "print(client.project, next(iter(client.query('SELECT 40 + 2 AS x').result())).x)"},
        {"cell_type": "code", "id": "c3", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "'nbformat' in sys.modules"},
    ],
}


def test_plain_install_replays_a_notebook_without_nbformat(installed):
    """``tutorial_replay run`` on a plain install: nbformat (a test extra) is made unimportable."""
    python, project, env = installed
    blocker = project / "blocker" / "nbformat"
    blocker.mkdir(parents=True, exist_ok=True)
    (blocker / "__init__.py").write_text("raise ImportError('nbformat is not installed here')\n")
    notebook = project / "offline.ipynb"
    notebook.write_text(json.dumps(PLAIN_NOTEBOOK))
    env = {**env, "PYTHONPATH": str(project / "blocker")}
    env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    env.pop("GOOGLE_CLOUD_PROJECT", None)
    ran = _run([str(python), "-m", "tutorial_replay", "run", str(notebook), "--quiet",
                "--transcript", str(project / "t.txt")], project, env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stderr.strip() == "ran 3 cells of offline.ipynb"
    transcript = (project / "t.txt").read_text()
    assert "2023.2.1\n" in transcript and "wallaroo-emulator 42\n" in transcript and "\nFalse\n" in transcript
    failing = project / "failing.py"
    failing.write_text("x = 1\n# %%\nx / 0\n")
    failed = _run([str(python), "-m", "tutorial_replay", "run", str(failing), "--quiet"], project, env)
    assert failed.returncode == 1 and failed.stderr.startswith("cell 2 failed:\nTraceback")
    misused = _run([str(python), "-m", "tutorial_replay", "run", "missing.ipynb"], project, env)
    assert misused.returncode == 2 and misused.stderr.count("\n") == 1 and "no such file" in misused.stderr


def test_plugin_options_and_help(installed):
    python, project, env = installed
    result = _run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--wallaroo-sdk",
            "2026.1",
            "-k",
            "option_profile",
            "tests",
        ],
        project,
        env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    helped = _run([str(python), "-m", "pytest", "--help"], project, env)
    assert "--wallaroo-sdk" in helped.stdout and "--emulator-start" in helped.stdout
    markers = _run([str(python), "-m", "pytest", "--markers"], project, env)
    assert "@pytest.mark.wallaroo_sdk(profile)" in markers.stdout
