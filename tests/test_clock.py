"""The virtual clock: advancing, due work in order, deadlines, and what time readers see."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import DEFAULT_START, Clock, DeadlineExceeded, Emulator
from emulator import clock as clock_module

REAL_DATETIME_TYPE = type(dt.datetime.now())


def test_default_start_is_fixed():
    assert Clock().now() == DEFAULT_START == dt.datetime(2023, 5, 10, 21, 0, tzinfo=dt.UTC)


def test_start_accepts_iso_naive_and_aware():
    assert Clock("2024-01-01T00:00:00Z").now() == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert Clock(dt.datetime(2024, 1, 1, 1)).now() == dt.datetime(2024, 1, 1, 1, tzinfo=dt.UTC)
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert Clock(dt.datetime(2024, 1, 1, 2, tzinfo=plus_two)).now() == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_advance_and_advance_to():
    clock = Clock()
    clock.advance(90)
    assert clock.now() == DEFAULT_START + dt.timedelta(seconds=90)
    clock.advance(dt.timedelta(minutes=1))
    assert clock.now() == DEFAULT_START + dt.timedelta(seconds=150)
    clock.advance_to("2023-05-11T00:00:00Z")
    assert clock.now() == dt.datetime(2023, 5, 11, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance_to(DEFAULT_START)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_due_work_runs_in_time_order_at_its_own_instant():
    clock = Clock()
    seen = []
    clock.call_later(30, lambda: seen.append(("b", clock.now())))
    clock.call_later(10, lambda: seen.append(("a", clock.now())))
    clock.call_later(10, lambda: seen.append(("a2", clock.now())))
    cancelled = clock.call_later(20, lambda: seen.append(("x", clock.now())))
    cancelled.cancel()
    clock.call_later(100, lambda: seen.append(("later", clock.now())))
    clock.advance(60)
    assert seen == [("a", DEFAULT_START + dt.timedelta(seconds=10)), ("a2", DEFAULT_START + dt.timedelta(seconds=10)),
                    ("b", DEFAULT_START + dt.timedelta(seconds=30))]
    assert clock.now() == DEFAULT_START + dt.timedelta(seconds=60)
    assert [t.name for t in clock.pending()] == [""]


def test_work_that_sleeps_moves_time_on_and_never_back():
    clock = Clock()
    seen = []

    def slow():
        clock.sleep(50)
        seen.append(("slow done", clock.now()))

    clock.call_later(10, slow)
    clock.call_later(20, lambda: seen.append(("second", clock.now())))
    clock.advance(30)
    # the second piece fired during the first one's sleep, at its own instant
    assert seen == [("second", DEFAULT_START + dt.timedelta(seconds=20)),
                    ("slow done", DEFAULT_START + dt.timedelta(seconds=60))]
    assert clock.now() == DEFAULT_START + dt.timedelta(seconds=60)


def test_work_scheduled_in_the_past_runs_on_next_advance():
    clock = Clock()
    seen = []
    clock.call_at(DEFAULT_START - dt.timedelta(hours=1), lambda: seen.append(clock.now()))
    clock.advance(0)
    assert seen == [DEFAULT_START]


def test_deadline_stops_a_sleep_at_the_deadline():
    clock = Clock()
    with pytest.raises(DeadlineExceeded) as info, clock.deadline(DEFAULT_START + dt.timedelta(seconds=120), "task"):
        clock.sleep(60)
        clock.sleep(100)
    assert info.value.deadline == DEFAULT_START + dt.timedelta(seconds=120)
    assert clock.now() == DEFAULT_START + dt.timedelta(seconds=120)
    clock.sleep(1000)  # outside the block: no deadline
    assert not isinstance(DeadlineExceeded(DEFAULT_START), Exception)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=40), st.integers(min_value=0, max_value=12_000))
def test_property_timers_fire_exactly_once_in_order_up_to_the_target(delays, horizon):
    clock = Clock()
    fired = []
    for index, delay in enumerate(delays):
        clock.call_later(delay, lambda i=index, d=delay: fired.append((clock.now(), d, i)))
    clock.advance(horizon)
    expected = sorted((DEFAULT_START + dt.timedelta(seconds=d), d, i) for i, d in enumerate(delays) if d <= horizon)
    assert fired == expected
    assert len(clock.pending()) == sum(1 for d in delays if d > horizon)


# ------------------------------------------------------------------------------------------
# what readers see under an active emulator
# ------------------------------------------------------------------------------------------
def test_time_readers_see_the_virtual_clock():
    with Emulator(start="2024-02-03T04:05:06Z") as emu:
        assert dt.datetime.now(dt.UTC) == dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
        assert dt.datetime.utcnow() == dt.datetime(2024, 2, 3, 4, 5, 6)
        assert dt.date.today() == dt.date(2024, 2, 3)
        assert time.time() == dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=dt.UTC).timestamp()
        assert time.gmtime()[:6] == (2024, 2, 3, 4, 5, 6)
        assert time.strftime("%Y") == "2024"
        u = uuid.uuid1()
        stamp = dt.datetime(1582, 10, 15, tzinfo=dt.UTC) + dt.timedelta(microseconds=u.time // 10)
        assert stamp == dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
        before = time.monotonic()
        time.sleep(300)
        assert time.monotonic() - before == pytest.approx(300)
        assert emu.clock.now() == dt.datetime(2024, 2, 3, 4, 10, 6, tzinfo=dt.UTC)


def test_sleep_is_instant_in_wall_time():
    with Emulator():
        started = clock_module.real_monotonic()
        time.sleep(86_400)
        assert clock_module.real_monotonic() - started < 1.0


def test_no_fakedatetime_leaks():
    import pandas as pd
    import pyarrow as pa

    with Emulator():
        values = [dt.datetime.now(), dt.datetime.now(dt.UTC), dt.datetime(2020, 1, 1),
                  dt.datetime.strptime("2020-01-01", "%Y-%m-%d"), dt.datetime.fromtimestamp(0, dt.UTC),
                  dt.datetime.now() + dt.timedelta(days=1), dt.date.today(), dt.datetime.now().date()]
        for value in values:
            assert type(value).__module__ == "datetime", type(value)
        assert pd.Timestamp(dt.datetime.now()) == pd.Timestamp("2023-05-10 21:00:00")
        assert pa.array([dt.datetime.now()]).type == pa.timestamp("us")


def test_threads_see_the_same_time():
    seen = []
    with Emulator() as emu:
        thread = threading.Thread(target=lambda: seen.append((time.time(), dt.datetime.now(dt.UTC))))
        thread.start()
        thread.join()
        assert seen == [(emu.clock.timestamp(), emu.clock.now())]


def test_leaving_restores_real_time():
    with Emulator():
        pass
    assert abs(time.time() - clock_module._REAL_DATETIME.now().timestamp()) < 5
    assert dt.datetime.now().year >= 2025
    assert time.sleep is clock_module._REAL_SLEEP or clock_module.time_patches_installed()


def test_client_retry_deadlines_run_out_in_virtual_time():
    from google.api_core import exceptions, retry

    calls = []

    def flaky():
        calls.append(time.monotonic())
        raise exceptions.ServiceUnavailable("down")

    with Emulator() as emu:
        started = clock_module.real_monotonic()
        with pytest.raises(exceptions.RetryError):
            retry.Retry(timeout=600, initial=1, maximum=60)(flaky)()
        assert clock_module.real_monotonic() - started < 5
        assert (emu.clock.now() - DEFAULT_START).total_seconds() >= 600 - 60
        assert len(calls) > 3


def test_patches_pinned_between_emulators_pass_real_time_through():
    clock_module.keep_time_patches()
    try:
        assert clock_module.time_patches_installed()
        assert dt.datetime.now().year >= 2025
        with Emulator():
            assert dt.datetime.now().year == 2023
        assert dt.datetime.now().year >= 2025
    finally:
        clock_module.release_time_patches()
    assert not clock_module.time_patches_installed()


def test_next_due_and_run_pending():
    clock = Clock()
    seen = []
    timer = clock.call_later(10, lambda: seen.append("late"))
    clock.call_at(DEFAULT_START, lambda: seen.append("now"))
    assert clock.next_due() == DEFAULT_START
    clock.run_pending()
    assert seen == ["now"] and clock.now() == DEFAULT_START
    assert clock.next_due() == DEFAULT_START + dt.timedelta(seconds=10)
    timer.cancel()
    assert clock.next_due() is None
