"""Activation of the Emulator: context manager, decorator, re-entry, isolation, restore."""

from __future__ import annotations

import sys

import pytest
import requests

from emulator import Emulator, EmulatorError, active_emulator
from emulator.emulator import normalise_profile
from emulator.ids import IdGenerator


def test_context_manager_activates_and_restores():
    emu = Emulator()
    assert active_emulator() is None
    with emu as entered:
        assert entered is emu and active_emulator() is emu and emu.active
        with emu:  # re-entering the same emulator nests
            assert active_emulator() is emu
        assert active_emulator() is emu
    assert active_emulator() is None


def test_decorator():
    emu = Emulator()

    @emu
    def inside() -> bool:
        return active_emulator() is emu

    assert inside() is True
    assert active_emulator() is None


def test_second_emulator_is_refused_and_first_stays_healthy():
    with Emulator() as first:
        with pytest.raises(EmulatorError, match="already active"):
            Emulator().start()
        assert active_emulator() is first


def test_failed_block_still_restores():
    with pytest.raises(RuntimeError), Emulator():
        raise RuntimeError("boom")
    assert active_emulator() is None


def test_requests_interception_is_removed_on_exit():
    with Emulator():
        ok = requests.get("https://bigquery.googleapis.com/bigquery/v2/projects/p/datasets")
        assert ok.status_code == 200
    # other hosts were never intercepted, and after exit nothing is
    assert "responses" not in type(requests.adapters.HTTPAdapter.send).__module__


def test_wallaroo_module_mapped_only_while_active():
    before = sys.modules.get("wallaroo")
    with Emulator():
        import wallaroo

        import emulator.wallaroo.sdk as facade

        assert wallaroo is facade and hasattr(wallaroo, "Client")
    assert sys.modules.get("wallaroo") is before


def test_profiles():
    assert normalise_profile("2023.2.1") == "2023.2"
    assert normalise_profile("2025.2") == "2026.1"
    assert normalise_profile("2026.1.3") == "2026.1"
    with pytest.raises(EmulatorError, match="unknown SDK profile"):
        Emulator(sdk="1999.1")


def test_ids_are_deterministic_per_seed_and_stream():
    a, b, c = IdGenerator(7), IdGenerator(7), IdGenerator(8)
    assert [a.uuid4("task") for _ in range(3)] == [b.uuid4("task") for _ in range(3)]
    assert a.uuid4("task") != c.uuid4("task")
    # streams are independent: drawing from one does not shift another
    d = IdGenerator(7)
    d.uuid4("other")
    assert d.uuid4("task") == IdGenerator(7).uuid4("task")
    assert [a.next_int("ws") for _ in range(3)] == [1, 2, 3]


def test_fresh_emulator_opens_no_database_until_bigquery_is_used():
    emu = Emulator()
    with emu:
        assert not emu.bigquery.engine.is_open
        emu.bigquery.create_dataset("p", "d")
        assert emu.bigquery.engine.is_open
    emu.close()
    assert not emu.bigquery.engine.is_open
