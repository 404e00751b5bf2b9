"""Entering and leaving an emulator, for the Wallaroo side.

* :func:`create_backend` builds the platform backend (cheap: no onnxruntime, no pandas).
* :func:`activate` (facade mode) maps ``wallaroo`` and every ``wallaroo.<submodule>`` onto
  ``emulator.wallaroo.sdk`` (submodules are discovered with :mod:`pkgutil`, so a new module
  ``sdk/x.py`` becomes ``wallaroo.x`` with no change here), hides whatever ``wallaroo*``
  modules were loaded (the real SDK, if installed), sets the environment the newest profile's
  bare ``wallaroo.Client()`` needs, and returns a callable that restores all of it exactly.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
import sys
from collections.abc import Callable
from typing import Any

_SDK_PACKAGE = "emulator.wallaroo.sdk"


def create_backend(emu: Any) -> Any:
    """The platform backend, and its HTTP wire registered on the emulator's router."""
    from emulator.wallaroo.backend import WallarooBackend
    from emulator.wallaroo.wire import register_routes

    backend = WallarooBackend(emu.clock, emu.ids, profile=emu.sdk)
    register_routes(emu.router, emu)
    return backend


def sdk_modules() -> dict[str, Any]:
    """``{"wallaroo": sdk package, "wallaroo.client": ..., ...}`` for every facade module."""
    return dict(_sdk_modules())


@functools.cache
def _sdk_modules() -> dict[str, Any]:
    """Found once per process (walking the package costs milliseconds; an isolated run's process
    inherits it from the fork server)."""
    package = importlib.import_module(_SDK_PACKAGE)
    mapping = {"wallaroo": package}
    for info in pkgutil.walk_packages(package.__path__, prefix=_SDK_PACKAGE + "."):
        module = importlib.import_module(info.name)
        mapping["wallaroo" + info.name[len(_SDK_PACKAGE):]] = module
    for public, module in mapping.items():
        _rename_classes(module, public)
    return mapping


def _rename_classes(module: Any, public: str) -> None:
    """Classes defined in a facade module report the SDK's module (``wallaroo.pipeline.Pipeline``)."""
    for value in list(vars(module).values()):
        if isinstance(value, type) and value.__module__ == module.__name__:
            value.__module__ = public


def _is_wallaroo(name: str) -> bool:
    return name == "wallaroo" or name.startswith("wallaroo.")


def environment_for(emu: Any) -> dict[str, str]:
    """Environment variables set while active (only those not already set by the user)."""
    if emu.sdk == "2023.2":
        return {}
    from emulator.emulator import WALLAROO_EMULATOR_URL

    return {"WALLAROO_URL": WALLAROO_EMULATOR_URL, "WALLAROO_SDK_AUTH_TYPE": "sso"}


def activate(emu: Any) -> Callable[[], None]:
    """Enter the Wallaroo side of an emulator; returns the callable that restores everything.

    Both modes get a temporary folder the emulator owns (removed on exit) and the task
    container's ``/home/jovyan/arguments.json`` inside runs (:mod:`emulator.wallaroo.container_paths`).
    The facade maps ``wallaroo`` onto :mod:`emulator.wallaroo.sdk`; ``sdk="installed"`` leaves the
    real package alone and prepares its environment (:mod:`emulator.wallaroo.installed`).
    """
    import shutil
    import tempfile
    from pathlib import Path

    from emulator.wallaroo import container_paths

    restores: list[Callable[[], None]] = []
    folder = Path(tempfile.mkdtemp(prefix="wallaroo-emulator-sdk-"))
    restores.append(lambda: shutil.rmtree(folder, ignore_errors=True))

    def restore() -> None:
        while restores:
            restores.pop()()

    try:
        restores.append(container_paths.install(folder / "runs"))
        if getattr(emu, "sdk_source", "facade") == "installed":
            from emulator.wallaroo import installed

            restores.append(installed.activate(emu, folder))
        else:
            restores.append(_map_facade(emu))
    except BaseException:
        restore()
        raise
    return restore


def _map_facade(emu: Any) -> Callable[[], None]:
    mapping = sdk_modules()
    saved_modules = {name: module for name, module in sys.modules.items() if _is_wallaroo(name)}
    for name in saved_modules:
        del sys.modules[name]
    sys.modules.update(mapping)
    saved_env: dict[str, str | None] = {}
    for key, val in environment_for(emu).items():
        if key not in os.environ:
            saved_env[key] = None
            os.environ[key] = val

    def restore() -> None:
        for name in [n for n in sys.modules if _is_wallaroo(n)]:
            del sys.modules[name]
        sys.modules.update(saved_modules)
        for key, old in saved_env.items():
            if old is None:
                os.environ.pop(key, None)
            else:  # pragma: no cover - we only ever set absent variables
                os.environ[key] = old

    return restore
