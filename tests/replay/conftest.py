"""Make the wallaroo-emulator pytest plugin available when the package is not installed.

Installed (``pip install -e .``), the plugin arrives through its ``pytest11`` entry point; from a
plain checkout we register the same module here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import emulator.pytest_plugin as plugin

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"


def pytest_configure(config: pytest.Config) -> None:
    manager = config.pluginmanager
    if not manager.is_registered(plugin) and manager.get_plugin("wallaroo_emulator") is None:
        manager.register(plugin, "wallaroo_emulator")
