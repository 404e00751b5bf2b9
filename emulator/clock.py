"""The virtual clock: the single source of "now" for an emulator and the code it runs.

A :class:`Clock` starts at a chosen instant and moves only when told to
(:meth:`Clock.advance`, :meth:`Clock.advance_to`) or when code running under the emulator
calls ``time.sleep(n)``, which advances it by ``n`` at once. Work can be scheduled on it
(:meth:`Clock.call_at`); on every advance, due work runs in time order, each piece with the
clock set to its own due instant. Time never goes backwards: a piece of due work that itself
sleeps moves the clock on, and later pieces run no earlier than that.

Time reads of the emulator and of user code see the clock through freezegun: ``datetime.now``,
``datetime.utcnow``, ``date.today``, ``time.time``/``time_ns``, ``time.gmtime``/``localtime``/
``strftime``, ``time.monotonic``/``perf_counter`` and uuid1 timestamps.

Choices, recorded here because the pitfalls of freezegun (reference/time.md) force them:

* **freezegun is started once per process, not per emulator.** Its start walks every loaded
  module (tens of milliseconds); later emulators only push and pop a cheap layer on top of it.
  When no emulator is active the layer underneath passes real time through, so code outside an
  emulator reads the real clock. The patches come off when the last emulator leaves, unless
  :func:`keep_time_patches` pinned them (the pytest plugin pins them for a test session, so a
  fresh emulator per test stays cheap); :func:`release_time_patches` takes them off for good.
* **No ``FakeDatetime`` leaks.** freezegun's date and datetime classes are made to hand out
  plain ``datetime``/``date`` instances, so values that reach pandas, pyarrow, DuckDB or the
  BigQuery client are ordinary objects (``isinstance`` checks against the patched class keep
  working because freezegun's metaclass accepts real instances).
* **Threads see the same time.** freezegun returns the real time to any caller with a module
  of its ignore list (``threading``, ``queue``...) up to five frames up the stack, so a
  thread's target reading ``time.time()`` saw the real clock. We look at the direct caller
  only: a thread's own code sees virtual time, while ``threading``/``queue`` internals keep
  real monotonic time, so their waits with timeouts do not spin forever.
* **Timeouts do not hang.** ``time.monotonic`` follows the virtual clock and ``time.sleep``
  advances it, so retry loops with deadlines (google-api-core) run out of virtual time at once
  instead of waiting or spinning in real time.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import threading
import time as _time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

UTC = _dt.UTC

_REAL_DATETIME = _dt.datetime
_REAL_DATE = _dt.date
_REAL_SLEEP = _time.sleep

#: Default start instant of a fresh emulator: the evening the house-price tutorial of the
#: project seed was run (2023-05-10 21:00:00 UTC). Fixed, so that runs are reproducible.
DEFAULT_START = _REAL_DATETIME(2023, 5, 10, 21, 0, 0, tzinfo=UTC)


def to_utc(instant: _dt.datetime | str | float | int) -> _dt.datetime:
    """Normalise an instant (aware or naive-UTC datetime, ISO string, epoch seconds) to aware UTC."""
    if isinstance(instant, int | float):
        return _REAL_DATETIME.fromtimestamp(float(instant), tz=UTC)
    if isinstance(instant, str):
        text = instant.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        instant = _REAL_DATETIME.fromisoformat(text)
    if not isinstance(instant, _dt.datetime):
        raise TypeError(f"expected a datetime, ISO string or epoch seconds, got {type(instant).__name__}")
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    instant = instant.astimezone(UTC)
    return _REAL_DATETIME(
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


_EPOCH = _REAL_DATETIME(1970, 1, 1, tzinfo=UTC)


def _as_delta(delta: float | int | _dt.timedelta) -> _dt.timedelta:
    if isinstance(delta, _dt.timedelta):
        return delta
    if isinstance(delta, bool) or not isinstance(delta, int | float):
        raise TypeError(f"expected seconds or a timedelta, got {type(delta).__name__}")
    return _dt.timedelta(seconds=delta)


# ------------------------------------------------------------------------------------------
# Process-wide time patches (freezegun underneath, one virtual clock on top)
# ------------------------------------------------------------------------------------------

_active_clocks: list[Clock] = []
_patch_lock = threading.RLock()
_freezer = None  # the started freezegun._freeze_time, while the patches are installed
_pinned = False
_saved: dict[str, object] = {}


class _ActiveClockFactory:
    """freezegun factory: the active emulator's clock, or real time when none is active."""

    def __call__(self) -> _dt.datetime:
        if _active_clocks:
            return _active_clocks[-1].utcnow_naive()
        return _REAL_DATETIME.now(UTC).replace(tzinfo=None)

    # freezegun calls these on factories of frozen layers; we refuse to be moved behind our back.
    def tick(self, delta: object = None) -> None:  # pragma: no cover - defensive
        raise RuntimeError("advance the emulator's clock instead of freezegun's")

    def move_to(self, target: object) -> None:  # pragma: no cover - defensive
        raise RuntimeError("advance the emulator's clock instead of freezegun's")


def _plain_datetime(value: _dt.datetime) -> _dt.datetime:
    if type(value) is _REAL_DATETIME:
        return value
    return _REAL_DATETIME(
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond, value.tzinfo, fold=value.fold,
    )


def _plain_date(value: _dt.date) -> _dt.date:
    if type(value) is _REAL_DATE:
        return value
    return _REAL_DATE(value.year, value.month, value.day)


def _virtual_sleep(seconds: float) -> None:
    """``time.sleep`` while the patches are installed: advance the active clock, on any thread.

    With no active emulator (patches pinned between emulators) it is the real sleep.
    """
    if _active_clocks:
        _active_clocks[-1].sleep(seconds)
    else:
        _REAL_SLEEP(seconds)


#: Extension modules whose import breaks while freezegun's classes are in place (their C
#: initialisation checks datetime types; freezegun issue #464 and kin). They are imported before
#: the patches go on, once per process.
PRELOAD_BEFORE_PATCHING = ("numpy", "pandas", "pyarrow")


def _preload() -> None:
    import importlib

    for name in PRELOAD_BEFORE_PATCHING:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - optional at this level
            pass


class _RealDatetimeForExtensions:
    """Meta-path finder: extension modules imported while patched see the real datetime classes.

    Cython modules check ``datetime.date``/``datetime.datetime`` sizes when they initialise and
    misbehave with freezegun's subclasses ("datetime.date size changed", or worse). The swap lasts
    only for the extension's own initialisation.
    """

    def find_spec(self, name: str, path: object, target: object = None) -> object:
        import importlib.machinery
        import sys

        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is None:
                continue
            if isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
                spec.loader = _ExtensionLoader(spec.loader)
            return spec
        return None


class _ExtensionLoader:
    def __init__(self, loader: object) -> None:
        self._loader = loader

    def create_module(self, spec: object) -> object:
        with _real_datetime_classes():
            return self._loader.create_module(spec)  # type: ignore[attr-defined]

    def exec_module(self, module: object) -> None:
        with _real_datetime_classes():
            self._loader.exec_module(module)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._loader, name)


@contextmanager
def _real_datetime_classes() -> Iterator[None]:
    fake_dt, fake_d = _dt.datetime, _dt.date
    _dt.datetime, _dt.date = _REAL_DATETIME, _REAL_DATE  # type: ignore[misc]
    try:
        yield
    finally:
        _dt.datetime, _dt.date = fake_dt, fake_d  # type: ignore[misc]


_extension_finder = _RealDatetimeForExtensions()


def _install() -> None:
    global _freezer
    import sys

    import freezegun
    from freezegun import api

    _preload()
    sys.meta_path.insert(0, _extension_finder)

    # This module keeps references to the real classes, so the module walk must skip it.
    # pytest's own timings (--durations, timeouts) keep reading real time.
    freezer = freezegun.freeze_time(_REAL_DATETIME(2000, 1, 1), tick=False, ignore=[__name__, "_pytest", "pluggy"])
    freezer.start()
    api.freeze_factories[-1] = _ActiveClockFactory()
    _saved["limit"] = api.call_stack_inspection_limit
    api.call_stack_inspection_limit = 1
    _saved["to_fake_dt"] = api.datetime_to_fakedatetime
    _saved["to_fake_d"] = api.date_to_fakedate
    api.datetime_to_fakedatetime = _plain_datetime
    api.date_to_fakedate = _plain_date
    _saved["dt_new"] = api.FakeDatetime.__dict__.get("__new__")
    _saved["d_new"] = api.FakeDate.__dict__.get("__new__")
    api.FakeDatetime.__new__ = staticmethod(lambda cls, *a, **k: _REAL_DATETIME.__new__(_REAL_DATETIME, *a, **k))
    api.FakeDate.__new__ = staticmethod(lambda cls, *a, **k: _REAL_DATE.__new__(_REAL_DATE, *a, **k))
    _saved["sleep"] = _time.sleep
    _time.sleep = _virtual_sleep
    _freezer = freezer


def _uninstall() -> None:
    global _freezer
    from freezegun import api

    if _freezer is None:
        return
    import sys

    if _extension_finder in sys.meta_path:
        sys.meta_path.remove(_extension_finder)
    _time.sleep = _saved.pop("sleep")  # type: ignore[assignment]
    for cls, key in ((api.FakeDatetime, "dt_new"), (api.FakeDate, "d_new")):
        original = _saved.pop(key)
        if original is None:
            try:
                del cls.__new__
            except AttributeError:  # pragma: no cover
                pass
        else:  # pragma: no cover
            cls.__new__ = original
    api.datetime_to_fakedatetime = _saved.pop("to_fake_dt")
    api.date_to_fakedate = _saved.pop("to_fake_d")
    api.call_stack_inspection_limit = _saved.pop("limit")
    freezer, _freezer = _freezer, None
    freezer.stop()


def activate(clock: Clock) -> None:
    """Make ``clock`` the time every reader sees (installs the patches on first use)."""
    with _patch_lock:
        if _freezer is None:
            _install()
        _active_clocks.append(clock)


def deactivate(clock: Clock) -> None:
    """Undo :func:`activate`; the patches come off with the last clock unless pinned."""
    with _patch_lock:
        if clock in _active_clocks:
            _active_clocks.remove(clock)
        if not _active_clocks:
            if not _pinned:
                _uninstall()


def keep_time_patches() -> None:
    """Keep the freezegun patches installed between emulators (cheap fresh emulators).

    Between emulators the patched clock reads pass real time through.
    """
    global _pinned
    with _patch_lock:
        _pinned = True
        if _freezer is None:
            _install()


def release_time_patches() -> None:
    """Take the time patches off now if no emulator is active, and stop pinning them."""
    global _pinned
    with _patch_lock:
        _pinned = False
        if not _active_clocks:
            _uninstall()


def time_patches_installed() -> bool:
    return _freezer is not None


def real_monotonic() -> float:
    """Real monotonic seconds (for measuring, never for behaviour)."""
    from freezegun import api

    return api.real_monotonic() if _freezer is not None else _time.monotonic()


def real_sleep(seconds: float) -> None:
    """A real sleep, for the rare place that must wait on another thread."""
    _REAL_SLEEP(seconds)
