"""The virtual clock: the single source of "now" for an emulator and the code it runs.

A :class:`Clock` starts at a chosen instant and moves only when told to
(:meth:`Clock.advance`, :meth:`Clock.advance_to`) or when code running under the emulator
calls ``time.sleep(n)``, which advances it by ``n`` at once. Work can be scheduled on it
(:meth:`Clock.call_at`); on every advance, due work runs in time order, each piece with the
clock set to its own due instant. Time never goes backwards: a piece of due work that itself
sleeps moves the clock on, and later pieces run no earlier than that.

What readers see while a clock is active (:func:`activate`)
-----------------------------------------------------------
* Wall-clock reads, through **time-machine**, which swaps the C functions of the standard
  library: ``datetime.now``/``utcnow``/``today``, ``date.today``, ``time.time``/``time_ns``,
  ``time.gmtime``/``localtime``/``strftime`` without an argument, ``clock_gettime(CLOCK_REALTIME)``,
  and uuid1 timestamps. Every reference sees them, including names bound at import
  (``from time import time``) and C extensions calling these functions.
* ``time.monotonic``/``monotonic_ns``/``perf_counter``/``perf_counter_ns`` and ``time.sleep``:
  module attributes of :mod:`time` replaced by ours (time-machine has not patched monotonic time
  since 3.0). Monotonic readings are the clock's epoch seconds. Code that bound these names at
  import keeps the real ones — deliberately so for the standard library's waits (``threading``,
  ``queue``, ``subprocess``, ``sched``, ``socketserver``: imported with this module, so this holds
  when they are first used inside an emulator) and pytest (``_pytest.timing``), whose durations
  stay real.
* Local time is UTC (``TZ=UTC`` while a clock is active, put back after): naive ``now()``,
  ``localtime()`` and ``strftime()`` do not depend on the machine's zone.
* Not covered (as under any Python-level patching): DuckDB's ``now()``/``CURRENT_TIMESTAMP``
  (the BigQuery backend substitutes the clock), ``np.datetime64("now")``, SQLite's ``'now'``.

How the libraries the emulator serves read time (checked in their sources): google-api-core's
retry (``retry_target``: ``time.monotonic()`` deadline, ``time.sleep`` between attempts),
google-cloud-bigquery's ``QueryJob.result(timeout=)`` polling loop and the DataFrame download
timeouts (``time.monotonic()``), google-resumable-media's upload retries (``time.sleep``, a
cumulative sleep budget, no clock), tenacity (``time.monotonic()``, ``nap.sleep`` →
``time.sleep``), the wallaroo SDK 2026.1.3 (``time.sleep`` in its polling loops,
``time.monotonic()`` in ``Deployment`` waits) and httpx (``time.perf_counter()`` for
``Response.elapsed``) all look the names up at call time: they run on the virtual clock, so retry
deadlines and ``result(timeout=)`` run out of virtual time at once. Bound at import, hence
real: ``requests``' ``preferred_clock`` (``Response.elapsed`` only) and
``google.api_core.resumable_transfer``'s ``_monotonic_clock`` (throughput measurement of an
upload path google-cloud-bigquery does not use).

asyncio: an event loop reads ``time.monotonic()``, so ``await asyncio.sleep(n)`` would wait for a
clock nobody moves. On the driving thread, a loop that has nothing ready and watches no file
descriptor but its own wake-up pipe moves the clock to its next timer at once, as ``time.sleep``
does (``asyncio.sleep``, ``wait_for`` timeouts). A loop waiting on real I/O waits in real time;
a loop on another thread waits for the driving thread to move the clock. (uvloop is not covered.)

Which thread moves the clock
----------------------------
The **driving thread** is the one that activated the clock (the thread that entered the
emulator; in a task-run child process, the one that called :func:`install_process_clock`).

* On the driving thread ``time.sleep(n)`` advances the clock by ``n`` at once, running due work.
  Nothing any other thread does moves the clock while the driving thread runs: its view of time
  is deterministic.
* On any other thread (a user's thread, a thread a task left running, a thread-pool worker),
  ``time.sleep(n)`` never moves the clock on its own. It returns when the clock has reached the
  wake-up instant (the driving thread moved it), or after ``n`` seconds of *real* time, whichever
  comes first. So a leftover thread sleeping in a loop costs real time per turn and leaves the
  clock alone (the freezegun-era clock ran ~15 virtual hours per 0.5 real seconds), and no sleep
  can wait forever.
* Except when the driving thread is blocked waiting for that thread: ``Thread.join()``,
  ``Future.result()``, ``concurrent.futures.wait``/``as_completed`` (also through a chain of
  threads waiting for each other; read from the threads' current frames). Then the sleeper moves
  the clock to its own wake-up instant at once, on the driver's behalf — earliest wake-up first,
  and only once every thread started since the activation is asleep or blocked, so which worker
  wakes first does not depend on thread scheduling. ``join()`` on a helper that sleeps 5 s
  returns at once, 5 virtual seconds later; it can never deadlock. A hand-off that reaches a
  deadline of the clock (a task run's timeout) raises :class:`DeadlineExceeded` in that thread,
  as a sleep past it does on the driving thread.
* A helper the clock woke (the driving thread's sleep reached its wake-up instant) gets its turn:
  the driving thread's next ``time.sleep`` first waits, in real time, until that helper sleeps
  again or ends, at most :data:`WOKEN_HELPER_GRACE` (0.5 s) — so a retry loop cannot race through
  its whole deadline before a thread it waits for (one creating the table it polls) has run.
* A helper the driving thread waits for in a way the rule cannot see (a ``queue.Queue.get``, a
  bare ``Lock.acquire``, an asyncio loop, a socket) sleeps in real time, bounded by ``n``.

Time-machine against freezegun (the choice)
-------------------------------------------
freezegun (used until issue 9) replaces ``datetime.datetime``/``date`` with its own classes and
walks every loaded module with ``dir()`` on start and stop. With the real wallaroo SDK installed
that broke twice: pydantic's ``class ConstrainedDate(date, metaclass=...)`` raised "metaclass
conflict" when first imported under an emulator, and IPython 7's shim modules (pulled in by
tqdm/openai) import ``ipywidgets``/``notebook`` on ``dir()``, so leaving the emulator raised
ModuleNotFoundError. Its frozen monotonic time also needed stack inspection to keep
``threading``/pytest real. time-machine patches at the C level: no class replaced, no module
walked, nothing imported on entry or exit. Measured (``bench/cases_time.py``, BENCHMARKS.md; fresh
processes with a test session's ~1,300 modules loaded, shared 2-core machine): first install
8-15 ms including its import, against freezegun's first start 570-650 ms; patches on and off
0.03-0.05 ms against 56-78 ms; a pinned per-test activation 0.02-0.04 ms; one ``time.time()``
3 µs against freezegun's 16-23 µs (stack inspection); ``datetime.now()`` 12 µs against 5 µs
(time-machine's C calls back into Python). The fixes freezegun would need (no class replacement,
no module walk) are what it is made of, so it was not kept. time-machine >= 3.3: ``now()`` on a
``datetime`` subclass returns the subclass. Its optional pytest import (~150 ms) is skipped when
pytest is not loaded.

Patches for a process, pinning, child processes
-----------------------------------------------
The patches are installed with the first active clock and come off with the last, unless
:func:`keep_time_patches` pinned them (the pytest plugin does, for a session);
:func:`release_time_patches` takes them off. Between emulators the patched readers pass real
time through. A child process that runs emulated code with a proxy of the parent's clock calls
:func:`install_process_clock` (any :class:`ClockLike`).

Beside a user's own time-machine or freezegun
---------------------------------------------
* time-machine: travels nest on one stack. A ``travel`` started inside an emulator wins while it
  lasts (``time.sleep`` still moves the emulator's clock, monotonic time stays the emulator's);
  an emulator entered inside a travel wins until it leaves, then the travel's time is back.
  While the patches are pinned, ``time_machine.escape_hatch.is_travelling()`` is true.
* freezegun: ``freeze_time`` started inside an emulator puts its classes in front of ours, so
  its frozen time is what ``datetime``/``time`` report until it stops (it still walks modules:
  the ipywidgets problem is then the user's); ``time.sleep`` keeps moving the emulator's clock.
  Entering an emulator *inside* ``freeze_time`` raises :class:`TimePatchConflict` (time-machine
  refuses to patch under freezegun's classes, and mixing the two clocks would be wrong anyway).
"""

from __future__ import annotations

import datetime as _dt
import functools
import heapq
import itertools
import math
import os

# The standard library's waits bind real time at import (``from time import monotonic as time``):
# import them now, before any clock is active, so a first import inside an emulator cannot bind
# the virtual clock, under which a ``queue.Queue.get(timeout=...)`` (google-cloud-bigquery's
# Storage download loop) or a ``subprocess`` wait would never time out.
import queue  # noqa: F401
import sched  # noqa: F401
import socketserver  # noqa: F401
import subprocess  # noqa: F401
import sys
import threading
import time as _time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import CodeType, FrameType
from typing import Any, Protocol

UTC = _dt.UTC


class _Real:
    """The real time functions and classes, kept as class attributes.

    A user's ``freezegun.freeze_time`` rebinds every *module* attribute that is a real time
    function or class; it does not look inside classes, so these stay real whatever it does.
    """

    datetime = _dt.datetime
    date = _dt.date
    sleep = _time.sleep
    monotonic = _time.monotonic
    monotonic_ns = _time.monotonic_ns
    perf_counter = _time.perf_counter
    perf_counter_ns = _time.perf_counter_ns


#: Default start instant of a fresh emulator: the evening the house-price tutorial of the
#: project seed was run (2023-05-10 21:00:00 UTC). Fixed, so that runs are reproducible.
DEFAULT_START = _Real.datetime(2023, 5, 10, 21, 0, 0, tzinfo=UTC)


def to_utc(instant: _dt.datetime | str | float | int) -> _dt.datetime:
    """Normalise an instant (aware or naive-UTC datetime, ISO string, epoch seconds) to aware UTC."""
    if isinstance(instant, int | float):
        return _Real.datetime.fromtimestamp(float(instant), tz=UTC)
    if isinstance(instant, str):
        text = instant.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        instant = _Real.datetime.fromisoformat(text)
    if not isinstance(instant, _dt.datetime):
        raise TypeError(f"expected a datetime, ISO string or epoch seconds, got {type(instant).__name__}")
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    instant = instant.astimezone(UTC)
    return _Real.datetime(
        instant.year, instant.month, instant.day, instant.hour, instant.minute, instant.second,
        instant.microsecond, tzinfo=UTC,
    )


@dataclass(order=True)
class Timer:
    """A piece of work scheduled on a :class:`Clock`; :meth:`cancel` drops it."""

    when: _dt.datetime
    seq: int
    callback: Callable[[], object] = field(compare=False)
    name: str = field(default="", compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class DeadlineExceeded(BaseException):
    """Raised inside code whose virtual-time deadline passed while it slept.

    A ``BaseException`` so that user code's ``except Exception`` does not swallow it.
    """

    def __init__(self, deadline: _dt.datetime, label: str = "") -> None:
        super().__init__(f"{label or 'deadline'} reached at {deadline.isoformat()}")
        self.deadline = deadline
        self.label = label


class Clock:
    """Virtual time for one emulator. All instants are aware UTC datetimes."""

    def __init__(self, start: _dt.datetime | str | float | None = None) -> None:
        self._now = to_utc(start) if start is not None else DEFAULT_START
        self.start = self._now
        self._queue: list[Timer] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()
        self._deadlines: list[tuple[_dt.datetime, str]] = []

    # -- reading ---------------------------------------------------------------------------
    def now(self) -> _dt.datetime:
        """The current virtual instant (aware, UTC)."""
        return self._now

    def utcnow_naive(self) -> _dt.datetime:
        return self._now.replace(tzinfo=None)

    def timestamp(self) -> float:
        return self._now.timestamp()

    def epoch_ms(self) -> int:
        return (self.epoch_us()) // 1000

    def epoch_us(self) -> int:
        delta = self._now - _EPOCH
        return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds

    def __repr__(self) -> str:
        return f"<Clock now={self._now.isoformat()} pending={len(self.pending())}>"

    # -- scheduling ------------------------------------------------------------------------
    def call_at(self, when: _dt.datetime | str | float, callback: Callable[[], object], name: str = "") -> Timer:
        """Run ``callback`` when the clock reaches ``when`` (at once on the next advance if past)."""
        with self._lock:
            timer = Timer(to_utc(when), next(self._seq), callback, name)
            heapq.heappush(self._queue, timer)
            return timer

    def call_later(self, delay: float | _dt.timedelta, callback: Callable[[], object], name: str = "") -> Timer:
        return self.call_at(self._now + _as_delta(delay), callback, name)

    def pending(self) -> list[Timer]:
        """Scheduled, not yet run, not cancelled work in due order."""
        return sorted(t for t in self._queue if not t.cancelled)

    def next_due(self) -> _dt.datetime | None:
        with self._lock:
            while self._queue and self._queue[0].cancelled:
                heapq.heappop(self._queue)
            return self._queue[0].when if self._queue else None

    # -- moving ----------------------------------------------------------------------------
    def advance(self, delta: float | _dt.timedelta) -> _dt.datetime:
        """Move the clock forward by ``delta`` (seconds or timedelta), running due work in order."""
        step = _as_delta(delta)
        if step < _dt.timedelta(0):
            raise ValueError("the virtual clock cannot go backwards")
        return self.advance_to(self._now + step)

    def advance_to(self, instant: _dt.datetime | str | float) -> _dt.datetime:
        """Move the clock to ``instant``, running every piece of work due up to it in time order."""
        target = to_utc(instant)
        if target < self._now:
            raise ValueError(
                f"the virtual clock cannot go backwards (now {self._now.isoformat()}, asked {target.isoformat()})"
            )
        deadline = self._innermost_deadline()
        if deadline is not None and target > deadline[0]:
            self._run_until(deadline[0])
            raise DeadlineExceeded(deadline[0], deadline[1])
        self._run_until(target)
        return self._now

    def sleep(self, seconds: float) -> None:
        """What ``time.sleep`` does under the emulator: advance at once."""
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self.advance(seconds)

    def run_pending(self) -> None:
        """Run work that is due at the current instant (without moving the clock)."""
        self._run_until(self._now)

    @contextmanager
    def deadline(self, instant: _dt.datetime, label: str = "") -> Iterator[None]:
        """Within the block, advancing past ``instant`` stops at it and raises :class:`DeadlineExceeded`."""
        entry = (to_utc(instant), label)
        self._deadlines.append(entry)
        try:
            yield
        finally:
            self._deadlines.remove(entry)

    def _innermost_deadline(self) -> tuple[_dt.datetime, str] | None:
        if not self._deadlines:
            return None
        return min(self._deadlines, key=lambda d: d[0])

    def _run_until(self, target: _dt.datetime) -> None:
        while True:
            with self._lock:
                while self._queue and self._queue[0].cancelled:
                    heapq.heappop(self._queue)
                if not self._queue or self._queue[0].when > target:
                    if target > self._now:
                        self._now = target
                    return
                timer = heapq.heappop(self._queue)
                if timer.when > self._now:
                    self._now = timer.when
            timer.callback()


_EPOCH = _Real.datetime(1970, 1, 1, tzinfo=UTC)


def _as_delta(delta: float | int | _dt.timedelta) -> _dt.timedelta:
    if isinstance(delta, _dt.timedelta):
        return delta
    if isinstance(delta, bool) or not isinstance(delta, int | float):
        raise TypeError(f"expected seconds or a timedelta, got {type(delta).__name__}")
    return _dt.timedelta(seconds=delta)


# ------------------------------------------------------------------------------------------
# Process-wide time patches: time-machine for wall-clock reads, Python-level monotonic/sleep
# ------------------------------------------------------------------------------------------

_HAS_TZSET = hasattr(_time, "tzset")


class TimePatchConflict(RuntimeError):
    """The emulator's clock cannot take over time readers right now (freezegun is active)."""


class ClockLike(Protocol):
    """What :func:`activate` needs of a clock (a :class:`Clock`, or a proxy of one in a child process)."""

    def now(self) -> _dt.datetime: ...
    def utcnow_naive(self) -> _dt.datetime: ...
    def timestamp(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


@dataclass(eq=False)
class _Activation:
    """One active clock and the thread that drives it."""

    clock: ClockLike
    driver: int  # threading.get_ident() of the thread that activated the clock
    #: threads moving the clock on the driver's behalf while it waits for them (see _helper_sleep)
    acting: set[int] = field(default_factory=set)
    #: helper threads sleeping on this clock: ident -> (wake-up instant in ns, order of arrival)
    sleepers: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: a time-machine traveller pushed for this activation when another one was on top of ours
    traveller: object = None
    #: threads that existed when the clock was activated (never waited for before a hand-off)
    existing: frozenset[threading.Thread] = frozenset()
    #: notified whenever a sleep moved the clock, so helper sleepers look at it again
    cond: threading.Condition = field(default_factory=threading.Condition)
    #: helper threads the clock woke (their wake-up instant came), not yet asleep again or ended:
    #: ident -> (thread, real monotonic instant of the wake-up); see _await_woken_helpers
    woken: dict[int, tuple[threading.Thread, float]] = field(default_factory=dict)
    #: the Thread object of each helper sleeper (ident -> thread)
    sleeper_threads: dict[int, threading.Thread] = field(default_factory=dict)


_activations: list[_Activation] = []
_patch_lock = threading.RLock()
#: held by whichever thread moves the clock through ``time.sleep`` (the driver, or a helper it waits for)
_drive_lock = threading.RLock()
_pinned = False
_installed = False
_saved: dict[str, Any] = {}
_sleep_order = itertools.count()


_last_read: tuple[object, int] = (None, 0)


def _clock_ns(clock: ClockLike) -> int:
    """The clock's instant as integer nanoseconds since the epoch (exact, no float rounding).

    Remembers the last instant converted: a clock hands out the same ``datetime`` object until it
    moves, and time is read far more often than it moves.
    """
    global _last_read
    now = clock.now()
    last = _last_read
    if last[0] is now:
        return last[1]
    delta = now - _EPOCH
    ns = ((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000
    _last_read = (now, ns)
    return ns


def _clock_seconds(clock: ClockLike) -> float:
    return _clock_ns(clock) / 1_000_000_000  # int / int: correctly rounded, equal to clock.timestamp()


def _top() -> _Activation | None:
    return _activations[-1] if _activations else None


class _Traveller:
    """What time-machine's patched functions ask for the time: the active clock, or real time.

    time-machine's C functions call ``time_machine.traveller_stack[-1].time_ns()`` (3.x; ``time()``
    in 3.0-3.2 through Python), so this object stands on that stack in place of one of its own
    travellers.
    """

    def time_ns(self) -> int:
        active = _top()
        if active is None:
            return _saved["original_time_ns"]()
        return _clock_ns(active.clock)

    def time(self) -> float:
        return self.time_ns() / 1_000_000_000

    def _start(self) -> None:  # called by time-machine around its own travels; nothing to do
        pass

    def _stop(self) -> None:
        pass

    def shift(self, delta: object) -> None:
        raise RuntimeError("advance the emulator's clock (emu.clock.advance) instead of time-machine's traveller")

    move_to = shift


def _monotonic() -> float:
    active = _top()
    return _Real.monotonic() if active is None else _clock_seconds(active.clock)


def _monotonic_ns() -> int:
    active = _top()
    return _Real.monotonic_ns() if active is None else _clock_ns(active.clock)


def _perf_counter() -> float:
    active = _top()
    return _Real.perf_counter() if active is None else _clock_seconds(active.clock)


def _perf_counter_ns() -> int:
    active = _top()
    return _Real.perf_counter_ns() if active is None else _clock_ns(active.clock)


def _sleep(seconds: float) -> None:
    """``time.sleep`` while the patches are installed (the thread rule is in the module docstring)."""
    active = _top()
    if active is None:
        return _Real.sleep(seconds)
    if isinstance(seconds, str | bytes) or not hasattr(type(seconds), "__float__"):
        return _Real.sleep(seconds)  # raises the real TypeError
    length = float(seconds)
    if not length >= 0:  # negative or NaN: the real ValueError
        return _Real.sleep(seconds)
    me = threading.get_ident()
    if me == active.driver or me in active.acting:
        if active.woken and me == active.driver:
            _await_woken_helpers(active)
        with _drive_lock:
            active.clock.sleep(length)
        if active.sleepers:
            _note_woken(active)
        _wake_sleepers(active)
        return None
    return _helper_sleep(active, me, length)


def _note_woken(active: _Activation) -> None:
    """Helpers whose wake-up instant the clock has reached are woken: the driver's next sleep waits for them."""
    now = _clock_ns(active.clock)
    real_now = _Real.monotonic()
    with active.cond:
        for ident, (wake, _order) in list(active.sleepers.items()):
            thread = active.sleeper_threads.get(ident)
            if wake <= now and thread is not None and ident not in active.woken:
                active.woken[ident] = (thread, real_now)


#: How long (real seconds) the driving thread's next sleep waits for a helper thread the clock woke
#: to go back to sleep or end (see _await_woken_helpers).
WOKEN_HELPER_GRACE = 0.5


def _await_woken_helpers(active: _Activation) -> None:
    """Before the driving thread moves the clock again, let helpers the clock just woke do their turn.

    A helper sleeping until the clock reaches its wake-up instant (``time.sleep(1)`` on another
    thread, then work) is woken by the driver's sleep; without this the driver's very next sleep
    could run on (a retry loop's back-offs race through its whole deadline in microseconds) before
    the woken thread got the interpreter, and what happened would depend on thread scheduling.
    So the driver's next ``time.sleep`` first waits, in real time, until each woken helper has
    slept again or ended — at most :data:`WOKEN_HELPER_GRACE` seconds after its wake-up (a helper
    that goes on to block on something else, or runs for long, is then left to the real-time rule).
    google-cloud-bigquery's own system test ``test_query_retry_539`` (a thread creating the table
    a retried query waits for) depends on it.
    """
    with active.cond:
        while active.woken:
            now = _Real.monotonic()
            for ident, (thread, woke) in list(active.woken.items()):
                if not thread.is_alive() or now - woke >= WOKEN_HELPER_GRACE:
                    del active.woken[ident]
            if not active.woken:
                break
            earliest = min(woke for _, woke in active.woken.values())
            active.cond.wait(max(0.0, min(0.005, earliest + WOKEN_HELPER_GRACE - now)))


def _helper_sleep(active: _Activation, me: int, length: float) -> None:
    """``time.sleep`` on a thread that does not drive the clock: wait; move time only on the driver's behalf.

    It returns when the clock reaches the wake-up instant, or after ``length`` seconds of real time,
    whichever comes first. The thread moves the clock itself (to its own wake-up instant) only when
    the driving thread is blocked waiting for it (see :func:`_may_hand_off`).
    """
    if length == 0:
        return _Real.sleep(0)
    real_start = _Real.monotonic()
    wake = _clock_ns(active.clock) + math.ceil(length * 1e6) * 1000  # whole microseconds, as the clock
    with active.cond:
        active.woken.pop(me, None)
        active.sleepers[me] = (wake, next(_sleep_order))
        active.sleeper_threads[me] = threading.current_thread()
        active.cond.notify_all()  # a driver waiting for this woken helper goes on
    poll = 0.001
    try:
        while True:
            if active not in _activations:  # the emulator left: the rest of the sleep is real
                left = length - (_Real.monotonic() - real_start)
                if left > 0:
                    _Real.sleep(left)
                return None
            if _clock_ns(active.clock) >= wake:  # (the driver noted it woken: _note_woken)
                return None
            left = length - (_Real.monotonic() - real_start)
            if left <= 0:
                return None
            if _may_hand_off(active, me):
                with _drive_lock:
                    now = _clock_ns(active.clock)
                    if now < wake:
                        active.acting.add(me)
                        try:
                            active.clock.sleep((wake - now) // 1000 / 1e6)
                        finally:
                            active.acting.discard(me)
                _wake_sleepers(active)
                return None
            with active.cond:
                active.cond.wait(min(poll, left))
            poll = min(poll * 2, 0.05)
    finally:
        with active.cond:
            active.sleepers.pop(me, None)
            active.sleeper_threads.pop(me, None)


def _wake_sleepers(active: _Activation) -> None:
    """Let helper threads sleeping on ``active`` look at the clock again (it moved)."""
    if active.sleepers:
        with active.cond:
            active.cond.notify_all()


def _may_hand_off(active: _Activation, me: int) -> bool:
    """Whether ``me`` may move the clock now, on behalf of the blocked driving thread.

    Three conditions: the driving thread is blocked waiting for ``me`` (directly, or through a
    chain of threads waiting for each other); ``me`` wakes first of the sleepers it is waiting
    for; and every thread started since the clock was activated is asleep or blocked too (so a
    thread that is just starting its own sleep, as a second pool worker does, is not overtaken:
    the order of wake-ups does not depend on thread scheduling). The state must look the same
    twice, a millisecond apart: a thread woken from a wait still shows its waiting frame until it
    gets the interpreter lock back.
    """
    first = _quiet_state(active, me)
    if first is None:
        return False
    _Real.sleep(0.001)
    return _quiet_state(active, me) == first


def _quiet_state(active: _Activation, me: int) -> tuple[tuple[int, int, int], ...] | None:
    """Where every other thread of the activation waits, if the hand-off conditions hold; else None."""
    frames = sys._current_frames()
    awaited = _awaited_threads(active.driver, frames)
    if me not in awaited:
        return None
    mine = active.sleepers.get(me)
    if mine is None or any(entry < mine for ident, entry in list(active.sleepers.items()) if ident in awaited):
        return None
    state = []
    for thread in threading.enumerate():
        ident = thread.ident
        if ident == me or thread in active.existing:
            continue
        frame = frames.get(ident)
        if ident != active.driver and not _is_idle(frame):
            return None
        if frame is not None and ident is not None:
            state.append((ident, id(frame), frame.f_lasti))
    return tuple(state)


def _is_idle(frame: FrameType | None) -> bool:
    """A thread asleep (in a helper sleep), blocked in a :mod:`threading` wait, or a pool worker waiting for work."""
    if frame is None:  # not running Python code (finished, or not started)
        return True
    code = frame.f_code
    if code is _helper_sleep.__code__:
        return True
    if code.co_filename == _THREADING_FILE:
        return code.co_name in _BLOCKING_WAITS
    worker_code, get_lines = _pool_worker_wait()
    return code is worker_code and frame.f_lineno in get_lines


@functools.cache
def _pool_worker_wait() -> tuple[CodeType, frozenset[int]]:
    """The code of a ``ThreadPoolExecutor`` worker and the lines where it waits for work (a C-level ``get``)."""
    import concurrent.futures.thread as futures_thread
    import dis

    code = futures_thread._worker.__code__
    lines = {ins.positions.lineno for ins in dis.get_instructions(code) if ins.argval == "get" and ins.positions}
    return code, frozenset(line for line in lines if line is not None)


_THREADING_FILE = threading.__file__
_BLOCKING_WAITS = frozenset({"wait", "_wait_for_tstate_lock"})


def _awaited_threads(driver: int, frames: dict[int, FrameType]) -> set[int]:
    """Threads the driver is blocked waiting for: a join, a future's result, ``wait``/``as_completed``.

    Read from the threads' current frames: a thread counts as blocked only while its innermost frame
    is a blocking wait of :mod:`threading` (``Condition.wait`` or the join lock), so a thread that is
    running code is never mistaken for a waiting one.
    """
    awaited: set[int] = set()
    frontier = [driver]
    runners: dict[int, set[int]] | None = None
    while frontier:
        waiting = frontier.pop()
        target_threads, futures = _blocked_on(frames.get(waiting))
        if futures:
            if runners is None:
                runners = _future_runners(frames)
            for future in futures:
                target_threads |= runners.get(id(future), set())
        for ident in target_threads - awaited - {driver}:
            awaited.add(ident)
            frontier.append(ident)
    return awaited


def _blocked_on(frame: FrameType | None) -> tuple[set[int], list[object]]:
    if frame is None or frame.f_code.co_filename != _THREADING_FILE or frame.f_code.co_name not in _BLOCKING_WAITS:
        return set(), []
    import concurrent.futures._base as futures_base

    outer: FrameType | None = frame
    for _ in range(6):
        if outer is None:
            break
        code = outer.f_code
        if code is threading.Thread.join.__code__:
            thread = outer.f_locals.get("self")
            return ({thread.ident} if thread is not None and thread.ident else set()), []
        if code is futures_base.Future.result.__code__:
            return set(), [outer.f_locals.get("self")]
        if code in (futures_base.wait.__code__, futures_base.as_completed.__code__):
            return set(), list(outer.f_locals.get("fs") or ())
        outer = outer.f_back
    return set(), []


def _future_runners(frames: dict[int, FrameType]) -> dict[int, set[int]]:
    """id(future) -> threads running it (``concurrent.futures`` thread-pool workers)."""
    import concurrent.futures.thread as futures_thread

    run_code = futures_thread._WorkItem.run.__code__
    found: dict[int, set[int]] = {}
    for ident, frame in frames.items():
        outer: FrameType | None = frame
        while outer is not None:
            if outer.f_code is run_code:
                item = outer.f_locals.get("self")
                if item is not None:
                    found.setdefault(id(item.future), set()).add(ident)
                break
            outer = outer.f_back
    return found


def _virtual_run_once(loop: Any) -> None:
    """``asyncio`` event loop step: when the loop would only wait for a timer, move the clock to it.

    An event loop reads ``time.monotonic()`` (virtual), so without this an ``await asyncio.sleep(n)``
    would wait for a clock that nobody moves. On the driving thread, when nothing is ready and the
    loop watches no file descriptor but its own wake-up pipe, the wait for the next timer is a
    sleep: the clock moves to the timer at once, as ``time.sleep`` does. A loop that waits on real
    I/O (a socket to a real server, a subprocess) waits in real time, as before.
    """
    active = _top()
    if active is not None and not loop._ready and loop._scheduled and not loop._stopping:
        me = threading.get_ident()
        selector = getattr(loop, "_selector", None)
        if (me == active.driver or me in active.acting) and selector is not None and len(selector.get_map()) <= 1:
            handle = loop._scheduled[0]
            with _drive_lock:
                for _ in range(3):  # the loop runs a timer once `when < time() + resolution`
                    ahead = handle._when - (loop.time() + loop._clock_resolution)
                    if handle._cancelled or ahead < 0:
                        break
                    active.clock.sleep(max(math.ceil(ahead * 1e6), 1) / 1e6)  # whole µs, past the timer
    _saved["run_once"](loop)


def _hook_asyncio() -> None:
    """Install :func:`_virtual_run_once` once ``asyncio`` is loaded (never imports it)."""
    events = sys.modules.get("asyncio.base_events")
    if events is None or "run_once" in _saved:
        return
    _saved["run_once"] = events.BaseEventLoop._run_once
    events.BaseEventLoop._run_once = _virtual_run_once


def _unhook_asyncio() -> None:
    original = _saved.pop("run_once", None)
    if original is not None:
        events = sys.modules["asyncio.base_events"]
        if events.BaseEventLoop._run_once is _virtual_run_once:
            events.BaseEventLoop._run_once = original


_PATCHED_TIME_FUNCTIONS = {
    "sleep": _sleep,
    "monotonic": _monotonic,
    "monotonic_ns": _monotonic_ns,
    "perf_counter": _perf_counter,
    "perf_counter_ns": _perf_counter_ns,
}


def _refuse_under_freezegun() -> None:
    if "freezegun" in sys.modules and _dt.datetime is not _Real.datetime:
        raise TimePatchConflict(
            "the emulator's clock cannot start inside freezegun's freeze_time (freezegun replaces the datetime "
            "classes, which time-machine refuses to patch under); enter the emulator first, or move time with "
            "emu.clock instead of freezegun"
        )


def _import_time_machine() -> Any:
    """Import time-machine without its optional pytest import when pytest is not loaded (~150 ms)."""
    if "time_machine" in sys.modules or "pytest" in sys.modules:
        import time_machine

        return time_machine
    sys.modules["pytest"] = None  # type: ignore[assignment]  # makes its `import pytest` fail fast
    try:
        import time_machine
    finally:
        if sys.modules.get("pytest", 0) is None:
            del sys.modules["pytest"]
    return time_machine


def _install() -> None:
    global _installed
    _refuse_under_freezegun()
    time_machine = _import_time_machine()
    import _time_machine

    _saved["original_time_ns"] = _time_machine.original_time_ns
    travel = time_machine.travel(0, tick=False)
    theirs = travel.start()  # patches the C functions (first traveller) and uuid1's time source
    stack = time_machine.traveller_stack
    ours = _Traveller()
    stack[stack.index(theirs)] = ours
    _saved["travel"], _saved["traveller"], _saved["stack"] = travel, ours, stack
    for name, replacement in _PATCHED_TIME_FUNCTIONS.items():
        _saved[name] = getattr(_time, name)
        setattr(_time, name, replacement)
    _hook_asyncio()
    _installed = True


def _uninstall() -> None:
    global _installed
    if not _installed:
        return
    _unhook_asyncio()
    for name, replacement in _PATCHED_TIME_FUNCTIONS.items():
        original = _saved.pop(name)
        if getattr(_time, name) is replacement:  # someone who patched after us restores ours later
            setattr(_time, name, original)
    travel, ours, stack = _saved.pop("travel"), _saved.pop("traveller"), _saved.pop("stack")
    if stack and stack[-1] is ours:
        travel.stop()  # pops ours; the last traveller out unpatches and puts uuid1 back
    elif ours in stack:
        stack.remove(ours)  # a user's travel is still on top: theirs to stop
    _installed = False


def _enter_zone() -> None:
    """Local time is UTC while an emulator is active (naive ``now()``, ``localtime``, ``strftime``)."""
    _saved["tz"] = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    if _HAS_TZSET:
        _time.tzset()


def _leave_zone() -> None:
    previous = _saved.pop("tz", None)
    if previous is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = previous
    if _HAS_TZSET:
        _time.tzset()


def _reset_uuid_stamps() -> None:
    """uuid1 (uuid6/7 on 3.14) never hands out a stamp before its last one: forget it when time changes hands."""
    for name in ("_last_timestamp", "_last_timestamp_v6", "_last_timestamp_v7"):
        if hasattr(uuid, name):
            setattr(uuid, name, None)


def activate(clock: ClockLike) -> None:
    """Make ``clock`` the time every reader sees, driven by the calling thread.

    ``clock`` is any clock-like object (:class:`ClockLike`: ``now``, ``utcnow_naive``,
    ``timestamp``, ``sleep``). Installs the time patches on first use. Raises
    :class:`TimePatchConflict` inside freezegun's ``freeze_time``.
    """
    with _patch_lock:
        _refuse_under_freezegun()
        if not _installed:
            _install()
        else:
            _hook_asyncio()  # asyncio loaded since the patches went on
        activation = _Activation(clock, threading.get_ident(), existing=frozenset(threading.enumerate()))
        stack = _saved["stack"]
        if not stack or stack[-1] is not _saved["traveller"]:  # inside a user's time-machine travel: ours on top
            activation.traveller = _Traveller()
            stack.append(activation.traveller)
        if not _activations:
            _enter_zone()
        _activations.append(activation)
        _reset_uuid_stamps()


def deactivate(clock: ClockLike) -> None:
    """Undo :func:`activate`; the patches come off with the last clock unless pinned."""
    with _patch_lock:
        for index in range(len(_activations) - 1, -1, -1):
            if _activations[index].clock is clock:
                activation = _activations.pop(index)
                if activation.traveller is not None and activation.traveller in _saved.get("stack", ()):
                    _saved["stack"].remove(activation.traveller)
                if not _activations:
                    _leave_zone()
                _reset_uuid_stamps()
                break
        if not _activations and not _pinned:
            _uninstall()


@contextmanager
def driving(clock: ClockLike | None = None) -> Iterator[None]:
    """For the block, the calling thread moves the active clock as its driving thread does.

    For a thread that runs work on the emulator's behalf while the driving thread is elsewhere
    (the 127.0.0.1 server's request threads): ``time.sleep`` there advances the clock at once and
    runs due work, exactly as a call made in-process on the driving thread would. The thread holds
    the drive lock for the block, so no other thread moves the clock meanwhile (the driving
    thread's own sleeps wait for it). Outside an emulator (or when ``clock`` is not the active
    one), nothing changes.
    """
    active = _top()
    me = threading.get_ident()
    if active is None or (clock is not None and active.clock is not clock) or me == active.driver or me in active.acting:
        yield
        return
    with _drive_lock:
        active.acting.add(me)
        try:
            yield
        finally:
            active.acting.discard(me)
    _wake_sleepers(active)


def install_process_clock(clock: ClockLike) -> None:
    """Make ``clock`` the only clock of this process, driven by the calling thread, for the process's life.

    For a child process that runs emulated code (a task run) with a proxy of the parent's clock:
    activations inherited through ``fork`` are dropped (their driving threads do not exist in the
    child), the patches are installed and pinned, and ``clock`` is activated for the calling thread.
    """
    global _pinned
    with _patch_lock:
        if _activations:
            _activations.clear()
            _leave_zone()
        _pinned = True
        activate(clock)


def _after_fork_in_child() -> None:
    """A forked child has only the forking thread: locks another thread held are reset, no one sleeps."""
    global _patch_lock, _drive_lock
    _patch_lock = threading.RLock()
    _drive_lock = threading.RLock()
    for activation in _activations:
        activation.cond = threading.Condition()
        activation.sleepers.clear()
        activation.acting.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def keep_time_patches() -> None:
    """Keep the time patches installed between emulators (a test session; costs nothing per emulator).

    Between emulators the patched readers pass real time through.
    """
    global _pinned
    with _patch_lock:
        _pinned = True
        if not _installed:
            _install()


def release_time_patches() -> None:
    """Take the time patches off now if no emulator is active, and stop pinning them."""
    global _pinned
    with _patch_lock:
        _pinned = False
        if not _activations:
            _uninstall()


def time_patches_installed() -> bool:
    return _installed


def real_monotonic() -> float:
    """Real monotonic seconds (for measuring, never for behaviour)."""
    return _Real.monotonic()


def real_sleep(seconds: float) -> None:
    """A real sleep, for the rare place that must wait on another thread."""
    _Real.sleep(seconds)
