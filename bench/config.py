"""How much a run measures: ``--quick`` (CI smoke, < 60 s) or full (by hand, a few minutes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mode:
    quick: bool
    #: repeats of millisecond-scale operations (SELECT 1, 1k-row scan, fresh emulator ...)
    reps_fast: int
    #: repeats of operations around a second (10k-row insert, run-once task, replay ...)
    reps_slow: int
    #: row counts of the scaling curves
    sizes: tuple[int, ...]
    #: days of the simulated */5 schedule curve
    schedule_days: tuple[int, ...]
    #: rows of the big load (issue 2 names 1,000,000)
    big_rows: int
    #: skip a curve point whose projected time (previous point scaled linearly) exceeds this
    point_budget_s: float

    def reps_at(self, size: int) -> int:
        """Repeats of a curve point: fewer as the rows grow."""
        if size <= 10_000:
            return self.reps_slow if self.quick else 5
        if size <= 100_000:
            return 3
        return 1 if self.quick else 2


QUICK = Mode(quick=True, reps_fast=5, reps_slow=2, sizes=(1_000, 10_000), schedule_days=(1, 7),
             big_rows=100_000, point_budget_s=10.0)
FULL = Mode(quick=False, reps_fast=30, reps_slow=5, sizes=(1_000, 10_000, 100_000, 1_000_000),
            schedule_days=(1, 7, 30), big_rows=1_000_000, point_budget_s=150.0)
