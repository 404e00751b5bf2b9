"""wallaroo-emulator: the Wallaroo platform and Google BigQuery, offline and in-process.

    from emulator import Emulator

    with Emulator(sdk="2023.2") as emu:
        import wallaroo
        from google.cloud import bigquery
        ...

The public API is kept small: :class:`Emulator`, :func:`current`, :class:`Clock`, and the
constants below. The package is also an IPython extension (``%load_ext emulator``; see
:mod:`emulator.jupyter`).
"""

from typing import Any

from emulator.clock import DEFAULT_START, Clock, DeadlineExceeded
from emulator.emulator import (
    BIGQUERY_EMULATOR_URL,
    WALLAROO_EMULATOR_URL,
    Emulator,
    EmulatorError,
    active_emulator,
    current,
)

__all__ = [
    "BIGQUERY_EMULATOR_URL",
    "DEFAULT_START",
    "WALLAROO_EMULATOR_URL",
    "Clock",
    "DeadlineExceeded",
    "Emulator",
    "EmulatorError",
    "active_emulator",
    "current",
]
__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext emulator``: start an emulator for the session and add the ``%emulator`` magic."""
    from emulator.jupyter import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext emulator``: stop and close the session's emulator, remove the magic's state."""
    from emulator.jupyter import unload

    unload(ipython)
