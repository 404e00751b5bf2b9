"""Fixtures of the conformance suite: a fresh emulator per case with dataset ``ds`` in ``my-proj``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

PROJECT = "my-proj"
#: The virtual clock's start for every case (CURRENT_* cases expect it).
START = dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


@pytest.fixture
def bq() -> Iterator[Any]:
    """A real google-cloud-bigquery client served by a fresh emulator; dataset ``ds`` exists."""
    from emulator import Emulator

    with Emulator(start=START) as emu:
        client = emu.bigquery_client(project=PROJECT)
        client.create_dataset("ds")
        yield client

