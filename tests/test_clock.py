"""The virtual clock: advancing, due work in order, deadlines, and what time readers see."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
import threading
import time
import types
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
    assert abs(time.time() - clock_module._Real.datetime.now().timestamp()) < 5
    assert dt.datetime.now().year >= 2025
    assert time.sleep is clock_module._Real.sleep or clock_module.time_patches_installed()


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


# ------------------------------------------------------------------------------------------
# time patches that survive real libraries (issue 9, item 5)
# ------------------------------------------------------------------------------------------
@pytest.fixture
def unpinned():
    """The time patches off and unpinned for the test; pinned again afterwards if they were."""
    was_pinned = clock_module._pinned
    clock_module.release_time_patches()
    assert not clock_module.time_patches_installed()
    try:
        yield
    finally:
        if was_pinned:
            clock_module.keep_time_patches()


class _LazyShim(types.ModuleType):
    """Like IPython 7's shim modules: any attribute lookup or ``dir()`` imports a module that is missing."""

    def __getattr__(self, name):
        return getattr(importlib.import_module("no_such_module_for_the_shim"), name)

    def __dir__(self):
        return dir(importlib.import_module("no_such_module_for_the_shim"))


def test_lazy_modules_are_not_touched_on_entry_or_exit(unpinned):
    """IPython's shims (via tqdm/openai) made the clock's exit raise ModuleNotFoundError (ipywidgets)."""
    try:
        with Emulator():
            sys.modules["lazy_shim_loaded_while_active"] = _LazyShim("lazy_shim_loaded_while_active")
        assert not clock_module.time_patches_installed()
        with Emulator():  # entry with the shim loaded
            time.sleep(1)
        clock_module.keep_time_patches()
        clock_module.release_time_patches()
    finally:
        sys.modules.pop("lazy_shim_loaded_while_active", None)


def test_entry_and_exit_import_nothing(unpinned):
    with Emulator():
        pass  # first install: imports what the patches need, once
    before = set(sys.modules)
    with Emulator():
        time.sleep(5)
    clock_module.keep_time_patches()
    with Emulator():
        pass
    clock_module.release_time_patches()
    assert set(sys.modules) == before


def test_datetime_classes_are_never_replaced(unpinned):
    """pydantic subclasses ``datetime.date`` with its own metaclass at import: that must work while active."""

    class Meta(type):
        pass

    for pinned in (False, True):
        if pinned:
            clock_module.keep_time_patches()
        with Emulator(start="2024-02-03T04:05:06Z"):
            assert dt.datetime is REAL_DATETIME_TYPE and type(dt.date) is type

            class ConstrainedDate(dt.date, metaclass=Meta):
                pass

            class ConstrainedDatetime(dt.datetime, metaclass=Meta):
                pass

            assert ConstrainedDate(2020, 1, 2).year == 2020
            assert ConstrainedDatetime.now(dt.UTC) == dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
            assert type(ConstrainedDatetime.now(dt.UTC)) is ConstrainedDatetime
        clock_module.release_time_patches()


def test_naive_local_time_is_utc_while_active(monkeypatch):
    """Naive readers are deterministic whatever the machine's zone: local time is UTC under an emulator."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        with Emulator(start="2024-07-01T12:00:00Z"):
            assert dt.datetime.now() == dt.datetime(2024, 7, 1, 12, 0)
            assert time.localtime()[:4] == (2024, 7, 1, 12)
            assert time.strftime("%H:%M") == "12:00"
        assert os.environ["TZ"] == "America/New_York"
        assert time.localtime(0).tm_hour == 19  # 1969-12-31 19:00 in New York
    finally:
        monkeypatch.undo()
        time.tzset()


def test_monotonic_is_virtual_through_the_time_module():
    """google-api-core, bigquery, tenacity and the wallaroo SDK call ``time.monotonic()`` / ``perf_counter()``."""
    with Emulator() as emu:
        before = (time.monotonic(), time.perf_counter(), time.monotonic_ns(), time.perf_counter_ns())
        emu.clock.advance(3600)
        after = (time.monotonic(), time.perf_counter(), time.monotonic_ns(), time.perf_counter_ns())
        assert [b - a for a, b in zip(before[:2], after[:2])] == [3600, 3600]
        assert [b - a for a, b in zip(before[2:], after[2:])] == [3600 * 10**9] * 2


def test_query_result_timeout_runs_out_in_virtual_time(monkeypatch):
    """``QueryJob.result(timeout=)`` measures with ``time.monotonic``: a job that never completes times out."""
    import concurrent.futures

    from google.cloud.bigquery import QueryJob

    def never_done(self, *args, **kwargs):
        time.sleep(10)  # the server holds each poll as BigQuery's long poll does, then says "not yet"
        return False

    with Emulator() as emu:
        client = emu.bigquery_client()
        job = client.query("SELECT 1")
        job.result()
        monkeypatch.setattr(QueryJob, "done", never_done)
        monkeypatch.setattr(QueryJob, "_query_results", None, raising=False)
        fresh = client.query("SELECT 2")
        started_real, started = clock_module.real_monotonic(), emu.clock.now()
        with pytest.raises(concurrent.futures.TimeoutError):
            fresh.result(timeout=120)
        assert clock_module.real_monotonic() - started_real < 10
        assert 120 <= (emu.clock.now() - started).total_seconds() <= 140


def test_pytest_timings_stay_real():
    """pytest binds ``perf_counter`` at import (``_pytest.timing``): durations keep real time."""
    from _pytest import timing

    with Emulator():
        started = timing.Instant()
        time.sleep(3600)
        assert timing.Instant().perf_count - started.perf_count < 60


def test_duck_typed_clock_is_what_readers_see():
    """A clock proxy (task-run child processes) only needs now, utcnow_naive, sleep and timestamp."""

    class Proxy:
        def __init__(self):
            self.inner = Clock("2030-01-01T00:00:00Z")
            self.slept = []

        def now(self):
            return self.inner.now()

        def utcnow_naive(self):
            return self.inner.utcnow_naive()

        def timestamp(self):
            return self.inner.timestamp()

        def sleep(self, seconds):
            self.slept.append(seconds)
            self.inner.sleep(seconds)

    proxy = Proxy()
    clock_module.activate(proxy)
    try:
        assert dt.datetime.now(dt.UTC) == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        assert time.time() == proxy.timestamp()
        before = time.monotonic()
        time.sleep(7)
        assert proxy.slept == [7] and time.monotonic() - before == 7
    finally:
        clock_module.deactivate(proxy)
    assert dt.datetime.now().year >= 2025


# ------------------------------------------------------------------------------------------
# threads: who moves the clock
# ------------------------------------------------------------------------------------------
def _start(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_a_leftover_thread_sleeping_in_a_loop_does_not_move_the_clock():
    ticks = []
    stop = threading.Event()

    def leftover():
        while not stop.is_set():
            time.sleep(1)
            ticks.append(time.time())

    with Emulator() as emu:
        start = emu.clock.now()
        thread = _start(leftover)
        clock_module.real_sleep(0.3)
        assert emu.clock.now() == start and ticks == []
        time.sleep(10)  # the driving thread moves time; the leftover wakes on virtual time, at most once
        stop.set()
        time.sleep(1)
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert emu.clock.now() == start + dt.timedelta(seconds=11)
        assert 1 <= len(ticks) <= 2


def test_joining_a_sleeping_helper_hands_it_the_clock():
    with Emulator() as emu:
        start = emu.clock.now()
        thread = _start(lambda: time.sleep(5))
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert emu.clock.now() == start + dt.timedelta(seconds=5)


def test_waiting_on_a_future_hands_its_worker_the_clock():
    import concurrent.futures

    def work(n):
        time.sleep(n)
        return time.time()

    with Emulator() as emu, concurrent.futures.ThreadPoolExecutor(2) as pool:
        start = emu.clock.timestamp()
        assert pool.submit(work, 30).result(timeout=60) == start + 30
        assert sorted(pool.map(work, [5, 7])) == [start + 35, start + 37]
        assert emu.clock.timestamp() == start + 37


def test_a_chain_of_joins_reaches_the_sleeper():
    def outer():
        inner = _start(lambda: time.sleep(20))
        inner.join()

    with Emulator() as emu:
        start = emu.clock.now()
        _start(outer).join(timeout=60)
        assert emu.clock.now() == start + dt.timedelta(seconds=20)


def test_a_helper_the_driver_does_not_wait_for_sleeps_at_most_its_real_time():
    """No deadlock when the driving thread waits on something the clock rule cannot see (a queue)."""
    import queue

    results = queue.Queue()

    def helper():
        time.sleep(0.2)
        results.put(time.time())

    with Emulator() as emu:
        start = emu.clock.timestamp()
        _start(helper)
        assert results.get(timeout=30) == start  # woke after 0.2 s of real time; the clock stayed


def test_the_driving_thread_stays_deterministic_beside_busy_sleepers():
    stop = threading.Event()

    def noisy():
        while not stop.is_set():
            time.sleep(0.001)

    with Emulator() as emu:
        start = emu.clock.now()
        threads = [_start(noisy) for _ in range(3)]
        seen = []
        for _ in range(20):
            time.sleep(1)
            seen.append((emu.clock.now() - start).total_seconds())
        assert seen == [float(i) for i in range(1, 21)]
        stop.set()
        time.sleep(1)
        for thread in threads:
            thread.join(timeout=30)


def test_a_helper_sleeping_when_the_emulator_leaves_finishes_in_real_time():
    done = threading.Event()
    with Emulator():
        thread = _start(lambda: (time.sleep(0.2), done.set()))
    thread.join(timeout=30)
    assert done.is_set()


# ------------------------------------------------------------------------------------------
# beside a user's own time-machine or freezegun
# ------------------------------------------------------------------------------------------
def test_a_users_time_machine_travel_inside_and_around_the_emulator():
    time_machine = pytest.importorskip("time_machine")
    with Emulator(start="2024-01-01T00:00:00Z") as emu:
        with time_machine.travel(dt.datetime(2001, 1, 1, tzinfo=dt.UTC), tick=False):
            assert dt.datetime.now(dt.UTC).year == 2001  # the innermost travel wins while it lasts
            time.sleep(60)  # still the emulator's clock that sleeps move
        assert dt.datetime.now(dt.UTC) == dt.datetime(2024, 1, 1, 0, 1, tzinfo=dt.UTC) == emu.clock.now()
    with time_machine.travel(dt.datetime(2001, 1, 1, tzinfo=dt.UTC), tick=False):
        with Emulator(start="2024-01-01T00:00:00Z"):
            assert dt.datetime.now(dt.UTC).year == 2024
        assert dt.datetime.now(dt.UTC).year == 2001
    assert dt.datetime.now().year >= 2025


def test_a_users_freezegun_inside_and_around_the_emulator():
    freezegun = pytest.importorskip("freezegun")
    with Emulator(start="2024-01-01T00:00:00Z") as emu:
        with freezegun.freeze_time("2001-01-01"):
            assert dt.datetime.now().year == 2001  # freezegun's classes sit in front while it is active
            time.sleep(60)
        assert dt.datetime.now(dt.UTC) == emu.clock.now() == dt.datetime(2024, 1, 1, 0, 1, tzinfo=dt.UTC)
        assert dt.datetime is REAL_DATETIME_TYPE
    with freezegun.freeze_time("2001-01-01"), pytest.raises(RuntimeError, match="freezegun"):
        Emulator().start()
    assert dt.datetime.now().year >= 2025


# ------------------------------------------------------------------------------------------
# the co-install crashes, reproduced where the real SDK's dependencies are installed
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("snippet", [
    "with Emulator():\n    from google.cloud import bigquery\n    import tqdm.auto",
    "with Emulator(sdk='2026.1'):\n    import openai\n    import pydantic.v1",
])
def test_real_sdk_dependencies_import_under_an_emulator(snippet):
    for name in ("openai", "tqdm", "IPython"):
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not installed (the real wallaroo SDK brings it)")
    code = "from emulator import Emulator\n" + snippet + "\nprint('ok')\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_asyncio_sleep_moves_the_clock_like_time_sleep():
    import asyncio

    async def main():
        started = time.monotonic()
        await asyncio.sleep(30)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), timeout=5)
        await asyncio.gather(asyncio.sleep(2), asyncio.sleep(3))
        return time.monotonic() - started

    with Emulator() as emu:
        start = emu.clock.now()
        assert asyncio.run(main()) == pytest.approx(38, abs=1e-5)
        assert (emu.clock.now() - start).total_seconds() == pytest.approx(38, abs=1e-5)


def test_a_child_process_installs_a_proxy_clock():
    """The hook a task-run child process uses: activations inherited through fork give way to the proxy."""
    code = textwrap.dedent("""
        import datetime as dt, os, time
        from emulator import Clock
        from emulator import clock as clock_module

        class Proxy:  # stands for a proxy of the parent's clock
            def __init__(self):
                self.inner = Clock("2030-01-01T00:00:00Z")
            def now(self):
                return self.inner.now()
            def utcnow_naive(self):
                return self.inner.utcnow_naive()
            def timestamp(self):
                return self.inner.timestamp()
            def sleep(self, seconds):
                self.inner.sleep(seconds)

        parent_clock = Clock("2024-01-01T00:00:00Z")
        clock_module.activate(parent_clock)
        pid = os.fork()
        if pid == 0:
            clock_module.install_process_clock(Proxy())
            time.sleep(90)
            print(dt.datetime.now(dt.UTC).isoformat(), time.strftime("%H:%M"), flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        print(dt.datetime.now(dt.UTC).isoformat(), flush=True)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["2030-01-01T00:01:30+00:00 00:01", "2024-01-01T00:00:00+00:00"]


# ------------------------------------------------------------------------------------------
# the standard library's waits stay real even when first imported under an active clock
# ------------------------------------------------------------------------------------------
def test_stdlib_waits_imported_while_active_stay_real():
    """google-cloud-bigquery's Storage download loop blocks in ``queue.Queue.get(timeout=...)``.

    ``queue`` binds ``monotonic`` at import: imported for the first time inside an emulator (a
    fresh process whose first DataFrame download starts the thread pool), it bound the virtual
    clock, whose monotonic time does not move while the driver waits, so ``get`` never timed out
    and the download hung (the benchmark's Storage read did, intermittently, forever).
    """
    code = textwrap.dedent("""
        import sys
        from emulator import Emulator
        with Emulator():
            import queue, sched, socketserver, subprocess
            try:
                queue.Queue().get(timeout=0.01)
            except queue.Empty:
                pass
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    # the names they bound at import are the real ones
    import queue
    import sched
    import socketserver
    assert queue.time is clock_module._Real.monotonic
    assert sched._time is clock_module._Real.monotonic
    assert socketserver.time is clock_module._Real.monotonic
    assert subprocess._time is clock_module._Real.monotonic


def test_a_helper_the_clock_woke_gets_its_turn_before_the_driver_sleeps_again():
    """google-cloud-bigquery's test_query_retry_539 shape: a thread sleeps 1 s, then does work a
    retry loop on the driving thread waits for; the loop's back-offs must not race through their
    whole deadline before the woken thread ran (it did, under load, now and then)."""
    done = threading.Event()

    def helper():
        time.sleep(1)
        end = clock_module.real_monotonic() + 0.05  # real work after the wake-up (~50 ms)
        while clock_module.real_monotonic() < end:
            pass
        done.set()

    with Emulator() as emu:
        start = emu.clock.now()
        thread = _start(helper)
        clock_module.real_sleep(0.05)  # the helper is asleep on the clock
        waited = 0.0
        while not done.is_set() and waited < 120:  # a retry loop with a 120 s virtual deadline
            time.sleep(0.5)
            waited += 0.5
        assert done.is_set(), "the loop ran out of virtual time before the woken helper did its work"
        assert emu.clock.now() <= start + dt.timedelta(seconds=2)
        thread.join(timeout=30)
