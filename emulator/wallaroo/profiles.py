"""SDK version differences, in one place: the ``2023.2`` profile and the newest (``2026.1``).

The facade reads :func:`current` (the active emulator's profile) or a client's own profile and
branches on the flags of :class:`Profile`; :class:`newest_only` hides a method from 2023.2
clients (``hasattr(wl, "get_workspace")`` is False there, as in the real 2023.2.1 SDK), and
:func:`reject_newer_args` turns newest-only arguments into the ``TypeError`` Python raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    version: str  # wallaroo.__version__
    newest: bool
    anomaly_column: str  # result column of the SDK's infer()/logs() DataFrame
    model_class: str  # class upload_model returns
    missing_connection: str  # "required_attribute" (2023.2 tutorial run) | "exception"
    frameworks_extra: tuple[str, ...]


PROFILES: dict[str, Profile] = {
    "2023.2": Profile(
        name="2023.2", version="2023.2.1", newest=False, anomaly_column="check_failures",
        model_class="Model", missing_connection="required_attribute", frameworks_extra=(),
    ),
    "2026.1": Profile(
        name="2026.1", version="2026.1.3", newest=True, anomaly_column="anomaly.count",
        model_class="ModelVersion", missing_connection="exception",
        frameworks_extra=("hugging-face-automatic-speech-recognition", "vllm", "sglang"),
    ),
}

#: Profile used when no emulator is active (importing the facade outside an emulator).
DEFAULT = PROFILES["2023.2"]


def get(name: str) -> Profile:
    return PROFILES[name]


def current() -> Profile:
    """The profile of the active emulator (the 2023.2 profile when none is active)."""
    from emulator.emulator import active_emulator

    emu = active_emulator()
    return PROFILES.get(getattr(emu, "sdk", "2023.2"), DEFAULT) if emu is not None else DEFAULT


class newest_only:
    """Method descriptor: the method exists only for clients of the newest profile."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.__name__ = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        profile = getattr(obj, "_profile", None) or current()
        if not profile.newest:
            raise AttributeError(f"'{type(obj).__name__}' object has no attribute '{self.__name__}'")
        return self.func.__get__(obj, owner)


class by_profile:
    """Method descriptor: one implementation per profile, for methods whose parameters the two SDKs
    name differently (``add_model_step(model)`` in 2023.2, ``add_model_step(model_version)`` newest)."""

    def __init__(self, newest: Callable[..., Any], legacy: Callable[..., Any]) -> None:
        self.newest = newest
        self.legacy = legacy
        self.__doc__ = newest.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.__name__ = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        profile = getattr(obj, "_profile", None) or current()
        return (self.newest if profile.newest else self.legacy).__get__(obj, owner)


class _Unset:
    """A newest-only parameter left out; ``default`` is the value the newest SDK gives it."""

    def __init__(self, default: Any = None) -> None:
        self.default = default

    def __repr__(self) -> str:
        return repr(self.default)

    def __bool__(self) -> bool:
        return False


#: Default of newest-only parameters, so that 2023.2 can tell "not passed" from ``None``.
UNSET: Any = _Unset()


def unset(default: Any) -> Any:
    """The default of a newest-only parameter whose newest default is not ``None``."""
    return _Unset(default)


def reject_newer_args(profile: Profile, func_name: str, **params: Any) -> None:
    """In the 2023.2 profile, passing a newest-only parameter is a TypeError (as in 2023.2.1)."""
    if profile.newest:
        return
    for name, value in params.items():
        if not isinstance(value, _Unset):
            raise TypeError(f"{func_name}() got an unexpected keyword argument '{name}'")


def value(param: Any, default: Any = None) -> Any:
    """A newest-only parameter's value (``default``, or the default it carries, when not passed)."""
    if isinstance(param, _Unset):
        return default if default is not None else param.default
    return param
