"""The ``wallaroo`` module as an active emulator serves it (``sys.modules["wallaroo"]``).

Every ``wallaroo.<name>`` submodule is a module of this package (see
:mod:`emulator.wallaroo.activation`). ``wallaroo.__version__`` follows the emulator's profile:
``2023.2.1`` or ``2026.1.3``. Top-level names are the SDK's: ``Client`` and
``DeploymentConfigBuilder`` (both profiles export them).
"""

from __future__ import annotations

from typing import Any

from emulator.wallaroo.sdk import (  # noqa: F401  (submodules reachable as attributes, like the SDK's)
    auth,
    connection,
    deployment,
    deployment_config,
    engine_config,
    exceptions,
    framework,
    model,
    model_config,
    model_version,
    models,
    object,
    pipeline,
    pipeline_version,
    version,
    workspace,
)
from emulator.wallaroo.sdk.client import Client
from emulator.wallaroo.sdk.deployment_config import DeploymentConfigBuilder

__all__ = ["Client", "DeploymentConfigBuilder"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from emulator.wallaroo import profiles

        return profiles.current().version
    raise AttributeError(f"module 'wallaroo' has no attribute '{name}'")
