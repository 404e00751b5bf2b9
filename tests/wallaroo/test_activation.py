"""``import wallaroo`` resolves to the facade while an emulator is active, and only then."""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any

import pytest

from emulator.emulator import WALLAROO_EMULATOR_URL, Emulator

SUBMODULES = ("object", "framework", "client", "pipeline", "model", "model_version", "connection", "workspace",
              "deployment_config", "deployment", "auth", "exceptions", "engine_config", "pipeline_version")


def test_wallaroo_and_submodules_resolve_to_the_facade(emu: Emulator) -> None:
    import wallaroo

    assert wallaroo.__name__ == "emulator.wallaroo.sdk"
    for name in SUBMODULES:
        module = importlib.import_module(f"wallaroo.{name}")
        assert module is sys.modules[f"emulator.wallaroo.sdk.{name}"]
        assert getattr(wallaroo, name) is module
    from wallaroo.client import Client
    from wallaroo.object import EntityNotFoundError, RequiredAttributeMissing  # noqa: F401

    assert wallaroo.Client is Client


def test_version_follows_the_profile(emu: Emulator) -> None:
    import wallaroo

    assert wallaroo.__version__ == {"2023.2": "2023.2.1", "2026.1": "2026.1.3"}[emu.sdk]


def test_leaving_restores_previous_modules_and_absence(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("wallaroo")
    fake_sub = types.ModuleType("wallaroo.realonly")
    monkeypatch.setitem(sys.modules, "wallaroo", fake)
    monkeypatch.setitem(sys.modules, "wallaroo.realonly", fake_sub)
    with Emulator():
        import wallaroo

        assert wallaroo is not fake
        assert "wallaroo.realonly" not in sys.modules
    assert sys.modules["wallaroo"] is fake
    assert sys.modules["wallaroo.realonly"] is fake_sub
    monkeypatch.delitem(sys.modules, "wallaroo")
    monkeypatch.delitem(sys.modules, "wallaroo.realonly")
    # In the real-SDK venv, modules of the installed SDK imported by other test modules stay loaded.
    present = {n for n in sys.modules if n == "wallaroo" or n.startswith("wallaroo.")}
    assert "wallaroo" not in present
    with Emulator():
        import wallaroo  # noqa: F401
    assert {n for n in sys.modules if n == "wallaroo" or n.startswith("wallaroo.")} == present


def test_submodules_are_discovered_not_listed() -> None:
    from emulator.wallaroo.activation import sdk_modules

    mapping = sdk_modules()
    import pkgutil

    import emulator.wallaroo.sdk as sdk

    expected = {"wallaroo." + info.name for info in pkgutil.iter_modules(sdk.__path__)}
    assert expected <= set(mapping)


def test_newest_profile_sets_and_restores_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WALLAROO_URL", raising=False)
    monkeypatch.delenv("WALLAROO_SDK_AUTH_TYPE", raising=False)
    with Emulator(sdk="2026.1"):
        assert os.environ["WALLAROO_URL"] == WALLAROO_EMULATOR_URL
        assert os.environ["WALLAROO_SDK_AUTH_TYPE"]
    assert "WALLAROO_URL" not in os.environ
    assert "WALLAROO_SDK_AUTH_TYPE" not in os.environ
    with Emulator(sdk="2023.2"):
        assert "WALLAROO_URL" not in os.environ


def test_user_environment_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALLAROO_URL", "https://mine.example.com")
    with Emulator(sdk="2026.1"):
        assert os.environ["WALLAROO_URL"] == "https://mine.example.com"
    assert os.environ["WALLAROO_URL"] == "https://mine.example.com"


def test_create_backend_does_no_heavy_work() -> None:
    """Building the platform backend loads no model runtime (its cost is in bench/run.py's fresh-emulator figure)."""
    import subprocess
    import sys

    probe = ("import sys; from emulator import Emulator; emu = Emulator(); "
             "print('onnxruntime' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
    emu = Emulator()
    assert emu.wallaroo.orchestrations is None and emu.wallaroo.tasks is None


def test_client_outside_an_emulator_is_a_clear_error() -> None:
    from emulator.wallaroo.sdk.client import Client

    with pytest.raises(RuntimeError, match="active wallaroo emulator"):
        Client()


def test_an_installed_sdk_is_shadowed_then_back(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "wallaroo"
    package.mkdir()
    (package / "__init__.py").write_text("REAL = True\n__version__ = '2025.2.5'\n")
    (package / "object.py").write_text("REAL_OBJECT = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [n for n in sys.modules if n == "wallaroo" or n.startswith("wallaroo.")]:
        monkeypatch.delitem(sys.modules, name)
    importlib.invalidate_caches()
    with Emulator(sdk="2023.2"):
        import wallaroo
        import wallaroo.object

        assert not hasattr(wallaroo, "REAL") and wallaroo.__version__ == "2023.2.1"
        assert hasattr(wallaroo.object, "EntityNotFoundError")
    import wallaroo
    import wallaroo.object

    assert wallaroo.REAL and wallaroo.object.REAL_OBJECT
    real = sys.modules["wallaroo"]
    with Emulator(sdk="2026.1"):
        import wallaroo

        assert wallaroo is not real and wallaroo.__version__ == "2026.1.3"
    import wallaroo

    assert wallaroo is real
    for name in [n for n in sys.modules if n == "wallaroo" or n.startswith("wallaroo.")]:
        del sys.modules[name]
