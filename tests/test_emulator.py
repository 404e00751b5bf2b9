"""Activation of the Emulator: context manager, decorator, re-entry, isolation, restore."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import unittest

import pytest
import requests

import emulator
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


def test_decorator_gives_each_call_a_fresh_emulator_reachable_with_current():
    template = Emulator(sdk="2026.1", start="2024-02-03T04:05:06Z", seed=3, project="decorated")
    seen = []

    @template
    def make_dataset(name: str) -> str:
        emu = emulator.current()
        seen.append(emu)
        assert emu.active and emu is not template
        assert (emu.sdk, emu.seed, emu.project) == ("2026.1", 3, "decorated")
        assert emu.clock.now() == dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
        client = emu.bigquery_client()
        client.create_dataset("houses")  # a shared emulator would answer 409 Already Exists the 2nd time
        emu.clock.advance(60)
        return name

    assert make_dataset("first") == "first" and make_dataset.__name__ == "make_dataset"
    assert make_dataset("second") == "second"
    assert seen[0] is not seen[1] and active_emulator() is None
    assert not template.active


def test_current_without_an_emulator_names_the_ways_in():
    with pytest.raises(EmulatorError, match=r"no emulator is active.*with Emulator\(\).*fixture `emulator`"):
        emulator.current()
    with Emulator() as emu:
        assert emulator.current() is emu


def test_decorated_coroutine_runs_inside_its_own_emulator():
    @Emulator(start="2030-01-01T00:00:00Z")
    async def later() -> dt.datetime:
        await asyncio.sleep(0)
        return emulator.current().clock.now()

    assert asyncio.run(later()) == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert active_emulator() is None


def test_decorated_class_gives_each_test_method_a_fresh_emulator():
    @Emulator(seed=9)
    class Suite:
        def helper(self) -> Emulator | None:
            return active_emulator()

        def test_one(self) -> Emulator:
            emulator.current().bigquery.create_dataset("wallaroo-emulator", "d")
            return emulator.current()

        def test_two(self) -> Emulator:
            return self.test_one()  # nested call of a decorated method: a fresh emulator refuses to nest

    suite = Suite()
    assert suite.helper() is None  # only test* methods are decorated
    first = suite.test_one()
    assert first.seed == 9 and suite.test_one() is not first
    with pytest.raises(EmulatorError, match="already active"):
        suite.test_two()
    assert active_emulator() is None


def test_decorated_testcase_spans_setup_test_and_teardown():
    events = []

    @Emulator(project="unit")
    class Case(unittest.TestCase):
        def setUp(self) -> None:
            self.emu = emulator.current()
            self.emu.bigquery.create_dataset("unit", "made_in_setup")

        def tearDown(self) -> None:
            events.append(("teardown", emulator.current() is self.emu))

        def test_sees_setup_state(self) -> None:
            events.append(("test", [d.dataset for d in self.emu.bigquery.list_datasets("unit")]))

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(Case).run(result)
    assert result.wasSuccessful(), result.errors + result.failures
    assert events == [("test", ["made_in_setup"]), ("teardown", True)]
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
