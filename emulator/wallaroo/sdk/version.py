"""``wallaroo.version``: the SDK version of the active profile."""

from __future__ import annotations

from typing import Any


def _version() -> str:
    from emulator.wallaroo import profiles

    return profiles.current().version


def _user_agent() -> str:
    return f"WallarooSDK/{_version()}"


def __getattr__(name: str) -> Any:
    if name == "_version_str" or name == "__version__":
        return _version()
    raise AttributeError(f"module 'wallaroo.version' has no attribute '{name}'")
