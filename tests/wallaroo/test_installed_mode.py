"""``Emulator(sdk="installed")`` where it can be checked without the real SDK, and the task
container's ``/home/jovyan/arguments.json`` (both modes)."""

from __future__ import annotations

import os
from importlib import metadata

import pytest

from emulator.emulator import Emulator, EmulatorError, normalise_profile


def _installed() -> bool:
    try:
        metadata.version("wallaroo")
    except metadata.PackageNotFoundError:
        return False
    return True


#: The real SDK's distribution (a folder named wallaroo on sys.path is not one).
REAL_SDK = _installed()


def test_installed_is_a_profile_choice_everywhere() -> None:
    assert normalise_profile("installed") == "installed"
    from tutorial_replay.seed import validate

    assert validate({"sdk": "installed"}) == []


@pytest.mark.skipif(REAL_SDK, reason="the real wallaroo SDK is installed here")
def test_clear_error_without_the_real_sdk() -> None:
    with pytest.raises(EmulatorError, match=r"needs the real Wallaroo SDK.*pip install 'wallaroo==2026.1.3'.*sdk='2026.1'"):
        Emulator(sdk="installed")


def test_arguments_file_inside_runs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.wallaroo.runner import RunContext, _current_run

    path = "/home/jovyan/arguments.json"
    real_exists = os.path.exists(path)
    with Emulator(sdk="2026.1"):
        token = _current_run.set(RunContext("task-1", "run-1", {"k": [1, 2]}, 1, "o", "s", "u"))
        try:
            with open(path, encoding="utf-8") as handle:
                assert handle.read() == '{"k": [1, 2]}'
            from pathlib import Path

            assert Path(path).read_text() == '{"k": [1, 2]}'
        finally:
            _current_run.reset(token)
        if not real_exists:
            with pytest.raises(FileNotFoundError):
                open(path)  # noqa: SIM115 - outside a run the host's file system answers
    import builtins
    import io

    assert builtins.open is io.open and builtins.open.__module__ in ("io", "_io")
    assert not os.path.exists(path) or real_exists  # nothing was written under /home


def test_httpx_clients_share_one_ssl_context_while_shared() -> None:
    import httpx

    from emulator.wallaroo.installed import share_ssl_contexts

    def context(client: httpx.Client) -> object:
        return client._transport._pool._ssl_context

    undo = share_ssl_contexts()
    try:
        first, second = httpx.Client(), httpx.Client()
        assert context(first) is context(second)
        assert context(httpx.Client(verify=False)) is not context(first)
    finally:
        undo()
    assert context(httpx.Client()) is not context(httpx.Client())
