"""wallaroo-emulator: the Wallaroo platform and Google BigQuery, offline and in-process.

    from emulator import Emulator

    with Emulator(sdk="2023.2") as emu:
        import wallaroo
        from google.cloud import bigquery
        ...

The public API is kept small: :class:`Emulator`, :class:`Clock`, and the constants below.
"""

from emulator.clock import DEFAULT_START, Clock, DeadlineExceeded
from emulator.emulator import (
    BIGQUERY_EMULATOR_URL,
    WALLAROO_EMULATOR_URL,
    Emulator,
    EmulatorError,
    active_emulator,
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
]
__version__ = "0.1.0"
