"""The lazy ``wallaroo`` module the pytest plugin installs: what it resolves to, with and without an SDK."""

from __future__ import annotations

import importlib
import sys

import pytest

from emulator import Emulator, EmulatorError
from emulator.wallaroo import lazy


@pytest.fixture
def fresh_lazy(monkeypatch):
    """A lazy ``wallaroo`` of this test's own (the session's is put back afterwards)."""
    for name in [n for n in sys.modules if n == "wallaroo" or n.startswith("wallaroo.")]:
        monkeypatch.delitem(sys.modules, name)
    finder_was_there = lazy._finder in sys.meta_path
    assert lazy.install()
    yield
    lazy.uninstall()
    if finder_was_there:
        sys.meta_path.append(lazy._finder)


@pytest.fixture
def installed_sdk(tmp_path, monkeypatch):
    """A stand-in for a real ``wallaroo`` SDK installed on ``sys.path``."""
    package = tmp_path / "wallaroo"
    package.mkdir()
    (package / "__init__.py").write_text("REAL = True\n__version__ = '2026.1.3'\n\nclass Client:\n    pass\n")
    (package / "object.py").write_text("class EntityNotFoundError(Exception):\n    REAL = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    return package


def test_without_an_sdk_names_resolve_in_the_active_emulator(fresh_lazy):
    import wallaroo
    import wallaroo.pipeline
    from wallaroo.object import EntityNotFoundError  # an exception class: usable before any emulator

    module_top = wallaroo
    with pytest.raises(EmulatorError, match="wallaroo.Client was used with no emulator active"):
        module_top.Client  # noqa: B018
    with pytest.raises(EmulatorError, match=r"wallaroo.pipeline.Pipeline was used"):
        wallaroo.pipeline.Pipeline  # noqa: B018
    with Emulator(sdk="2026.1") as emu:
        assert module_top.__version__ == "2026.1.3"
        client = module_top.Client()
        assert client._emulator is emu
        with pytest.raises(EntityNotFoundError):
            client.get_model("missing")
    with pytest.raises(ModuleNotFoundError):
        import wallaroo.no_such_module  # noqa: F401


def test_an_installed_sdk_is_never_shadowed(fresh_lazy, installed_sdk):
    import wallaroo
    from wallaroo.object import EntityNotFoundError

    module_top = wallaroo
    assert module_top.REAL and EntityNotFoundError.REAL  # outside an emulator: the installed package
    with Emulator(sdk="2023.2"):
        assert module_top.__version__ == "2023.2.1"  # the facade of the active emulator
        assert not hasattr(module_top.Client, "REAL") and module_top.Client.__module__ == "wallaroo.client"
    assert module_top.Client.__module__ == "wallaroo"  # the installed one again


def test_an_emulator_that_leaves_wallaroo_alone_gets_the_installed_sdk(fresh_lazy, installed_sdk):
    """As an emulator serving the real SDK does: ``wallaroo`` must then be the real package."""
    import wallaroo

    emu = Emulator()
    emu._wallaroo_activation = None  # maps nothing in sys.modules
    with emu:
        assert wallaroo.REAL and wallaroo.__version__ == "2026.1.3"


def test_introspection_sees_a_plain_module(fresh_lazy):
    import wallaroo

    assert not hasattr(wallaroo, "__wrapped__") and not hasattr(wallaroo, "_mock_methods")
    assert "wallaroo-emulator" in repr(wallaroo)
    assert dir(wallaroo)  # no error without an emulator
    with Emulator():
        assert "Client" in dir(wallaroo)


def test_a_folder_named_wallaroo_on_sys_path_is_not_an_sdk(fresh_lazy, tmp_path, monkeypatch):
    (tmp_path / "wallaroo").mkdir()  # like a project's tests/wallaroo/ folder: a namespace package
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    assert lazy.real_sdk_spec() is None
    import wallaroo

    with pytest.raises(EmulatorError, match="no emulator active"):
        wallaroo.Client  # noqa: B018
