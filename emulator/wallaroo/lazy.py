"""A ``wallaroo`` module that test modules can import at their top, before any emulator is active.

The emulator maps ``wallaroo`` in ``sys.modules`` only while it is active, so a test module
doing ``import wallaroo`` at its top (imported by pytest at collection time, when no emulator is
active yet) would fail. The pytest plugin therefore installs, for the test session,
:class:`LazyWallaroo` modules under ``wallaroo`` (and ``wallaroo.<submodule>`` on demand, through
:class:`LazySubmoduleFinder`) whose attributes are looked up when used:

* while an emulator is active, in what that emulator serves as ``wallaroo`` (the facade of its
  SDK profile, so ``wallaroo.Client`` inside a test is the active emulator's client);
* otherwise, or when the active emulator does not map ``wallaroo`` (an emulator that uses the
  real SDK), in the real ``wallaroo`` package when one is installed: the lazy module never
  shadows an installed SDK;
* with neither, exception and enum classes resolve to the facade's (the same classes the facade
  raises and takes under every profile), so ``from wallaroo.object import EntityNotFoundError``
  at a module's top works; anything else raises :class:`~emulator.EmulatorError` naming the
  fixture to request.
"""

from __future__ import annotations

import enum
import importlib
import importlib.machinery
import importlib.util
import pkgutil
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from emulator.emulator import EmulatorError, active_emulator

FACADE = "emulator.wallaroo.sdk"
_PASSTHROUGH_DUNDERS = frozenset({"__version__"})


class LazyWallaroo(types.ModuleType):
    """``wallaroo`` or ``wallaroo.<submodule>``, resolved attribute by attribute when used."""

    def __init__(self, name: str) -> None:
        super().__init__(name, f"Resolves to the active emulator's `{name}` when used (wallaroo-emulator).")
        self.__path__: list[str] = []  # a package: `import wallaroo.x` asks the finders
        self.__file__ = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__") and name not in _PASSTHROUGH_DUNDERS:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        try:
            target = _target(self.__name__, name)
        except EmulatorError:
            if name.startswith("_"):  # what introspection probes (mock, inspect) gets a plain answer
                raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None
            raise
        return getattr(target, name)

    def __dir__(self) -> list[str]:
        try:
            return sorted(set(dir(_target(self.__name__, None))) | set(vars(self)))
        except EmulatorError:
            return sorted(vars(self))

    def __repr__(self) -> str:
        return f"<lazy module {self.__name__!r} (wallaroo-emulator: resolves to the active emulator's SDK)>"


def _is_lazy(module: Any) -> bool:
    return isinstance(module, LazyWallaroo)


def _not_active_message(module: str, name: str | None) -> str:
    what = f"{module}.{name}" if name else module
    return (
        f"{what} was used with no emulator active: the `wallaroo` imported at the top of this module "
        "resolves to the active emulator's SDK only while one is active. Request the `emulator` fixture "
        "(or `wallaroo_client`) in this test, decorate it with `@Emulator()`, or use `with Emulator():`"
    )


def real_sdk_spec() -> importlib.machinery.ModuleSpec | None:
    """Where an installed ``wallaroo`` SDK is, ignoring the lazy and the emulator's modules.

    Only a regular package counts: a folder named ``wallaroo`` without ``__init__.py`` on
    ``sys.path`` (a project's ``tests/wallaroo/``, which pytest's rootdir handling puts there) is
    a namespace package, not an SDK.
    """
    spec = importlib.machinery.PathFinder.find_spec("wallaroo")
    if spec is None or spec.origin in (None, "namespace") or not spec.has_location:
        return None
    return spec


@contextmanager
def _lazy_entries_set_aside() -> Iterator[None]:
    lazy = {name: module for name, module in sys.modules.items() if _is_lazy(module)}
    for name in lazy:
        del sys.modules[name]
    try:
        yield
    finally:
        for name, module in lazy.items():
            sys.modules[name] = module  # the real modules stay importable under their names meanwhile


_real_modules: dict[str, types.ModuleType] = {}


def _real(module: str) -> types.ModuleType | None:
    found = _real_modules.get(module)
    if found is not None:
        return found
    if real_sdk_spec() is None:
        return None
    with _lazy_entries_set_aside():
        try:
            found = importlib.import_module(module)
        except ImportError:
            return None
    _real_modules[module] = found
    return found


def _inert(module: str, name: str | None) -> types.ModuleType | None:
    """The facade module holding ``name`` when it is an exception or enum class (usable with no emulator)."""
    if name is None:
        return None
    try:
        facade = importlib.import_module(FACADE + module[len("wallaroo"):])
    except ImportError:
        return None
    value = vars(facade).get(name)
    if isinstance(value, type) and issubclass(value, BaseException | enum.Enum):
        return facade
    return None


def _target(module: str, name: str | None) -> types.ModuleType:
    emu = active_emulator()
    if emu is not None:
        served = sys.modules.get(module)
        if served is not None and not _is_lazy(served):
            return served
    real = _real(module)
    if real is not None:
        return real
    if emu is None:
        inert = _inert(module, name)
        if inert is not None:
            return inert
        raise EmulatorError(_not_active_message(module, name))
    raise EmulatorError(
        f"{module}: the active emulator does not serve `wallaroo` and no wallaroo SDK is installed"
    )


def _facade_submodules() -> set[str]:
    spec = importlib.util.find_spec(FACADE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return {info.name for info in pkgutil.iter_modules(locations)}


def _real_submodules() -> set[str]:
    spec = real_sdk_spec()
    locations = list(spec.submodule_search_locations or []) if spec else []
    return {info.name for info in pkgutil.iter_modules(locations)}


class LazySubmoduleFinder:
    """Meta-path finder: ``wallaroo.<name>`` under a lazy ``wallaroo`` is a lazy module too."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        parent, _, child = fullname.rpartition(".")
        if not parent or not (parent == "wallaroo" or parent.startswith("wallaroo.")):
            return None
        if not _is_lazy(sys.modules.get(parent)):
            return None
        if parent == "wallaroo" and child not in _facade_submodules() | _real_submodules():
            return None
        if parent != "wallaroo" and real_sdk_spec() is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return LazyWallaroo(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


_finder = LazySubmoduleFinder()


def install() -> bool:
    """Put a lazy ``wallaroo`` in ``sys.modules`` unless ``wallaroo`` is already imported; True if it did."""
    if "wallaroo" in sys.modules:
        return False
    module = LazyWallaroo("wallaroo")
    module.__spec__ = importlib.util.spec_from_loader("wallaroo", _finder, is_package=True)
    module.__loader__ = _finder
    sys.modules["wallaroo"] = module
    if _finder not in sys.meta_path:
        sys.meta_path.append(_finder)
    return True


def uninstall() -> None:
    """Remove the lazy modules (and the finder); real or emulator modules are left alone."""
    for name in [n for n, m in sys.modules.items() if _is_lazy(m)]:
        del sys.modules[name]
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _real_modules.clear()
