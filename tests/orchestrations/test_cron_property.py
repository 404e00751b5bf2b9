"""Property: a scheduled task fires exactly the cron instants croniter lists for the window."""

from __future__ import annotations

import datetime as dt

from croniter import croniter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import clock as clock_module


def _field(low: int, high: int) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    step = st.integers(1, max(1, (high - low) // 2))
    span = st.tuples(value, value).map(lambda ab: (min(ab), max(ab)))
    return st.one_of(
        st.just("*"),
        step.map(lambda k: f"*/{k}"),
        value.map(str),
        span.map(lambda ab: f"{ab[0]}-{ab[1]}"),
        st.tuples(span, step).map(lambda t: f"{t[0][0]}-{t[0][1]}/{t[1]}"),
        st.lists(value, min_size=2, max_size=4, unique=True).map(lambda xs: ",".join(map(str, sorted(xs)))),
    )


cron_expressions = st.tuples(
    _field(0, 59), _field(0, 23), st.one_of(st.just("*"), _field(1, 28)), st.one_of(st.just("*"), _field(1, 12)),
    st.one_of(st.just("*"), _field(0, 6)),
).map(" ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    expression=cron_expressions,
    offset=st.integers(0, 3 * 86400),
    window=st.integers(0, 2 * 86400),
    steps=st.integers(1, 4),
)
def test_runs_equal_croniter_count(bare_platform_factory, expression, offset, window, steps):
    # in-process runs: the property is about which instants fire, and 60 examples of forked runs cost
    # over a minute (isolation is held by tests/orchestrations/test_isolated_runs.py, schedules included)
    emu = bare_platform_factory("2026.1", task_runs="in-process")
    clock_module.activate(emu.clock)
    try:
        orch = emu.upload({"main.py": "pass\n"})
        emu.clock.advance(offset)
        created = emu.clock.now()
        task = emu.tasks.run_scheduled(orch.id, name="p", schedule=expression)
        end = created + dt.timedelta(seconds=window)
        for i in range(1, steps + 1):  # the window advanced in pieces (as polling loops do) or at once
            emu.clock.advance_to(created + dt.timedelta(seconds=window * i // steps))
        assert emu.clock.now() == end
        it = croniter(expression, created)
        expected = []
        while (instant := it.get_next(dt.datetime)) <= end:
            expected.append(instant)
        assert [r.created_at for r in task.runs] == expected
        assert all(r.status == "success" for r in task.runs)
        assert task.skipped == []
    finally:
        clock_module.deactivate(emu.clock)
