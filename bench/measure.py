"""Timing helpers, summaries and the records a benchmark run produces."""

from __future__ import annotations

import json
import statistics
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from emulator.clock import real_monotonic

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "tutorial_replay" / "assets"
MODEL_PATH = ASSETS / "models" / "rf_model.onnx"
HOUSES_PATH = ASSETS / "data" / "xtest-1k.df.json"


@dataclass
class Summary:
    """Seconds (or bytes, or any unit) of repeated runs: median and spread."""

    values: list[float]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def spread(self) -> tuple[float, float]:
        """p10–p90 from 10 values on, otherwise min–max."""
        ordered = sorted(self.values)
        if len(ordered) >= 10:
            q = statistics.quantiles(ordered, n=10, method="inclusive")
            return q[0], q[-1]
        return ordered[0], ordered[-1]

    @property
    def spread_kind(self) -> str:
        return "p10–p90" if self.n >= 10 else "min–max"

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.spread
        return {"n": self.n, "median": self.median, "lo": lo, "hi": hi, "values": self.values}


def timed(fn: Callable[[], Any]) -> float:
    """Real seconds one call of ``fn`` takes (real even inside an emulator's virtual time)."""
    start = real_monotonic()
    fn()
    return real_monotonic() - start


def repeat(fn: Callable[[], Any], times: int, *, warmup: int = 1,
           setup: Callable[[], Any] | None = None) -> Summary:
    """Time ``fn`` ``times`` times after ``warmup`` untimed calls; ``setup`` runs untimed before each."""
    for _ in range(warmup):
        if setup is not None:
            setup()
        fn()
    values = []
    for _ in range(times):
        if setup is not None:
            setup()
        values.append(timed(fn))
    return Summary(values)


@dataclass
class Row:
    """One figure of the results table."""

    key: str
    issue: str
    figure: str
    target: str
    unit: str = "s"  # "s" (seconds) or "B" (bytes) or "count"
    measured: Summary | None = None
    baseline_name: str = ""
    baseline: Summary | None = None
    passed: bool | None = None  # None: no target to hold, or not measured
    note: str = ""
    error: str | None = None
    status: str = "measured"  # measured | error | skipped | not available

    @property
    def ratio(self) -> float | None:
        if self.measured is None or self.baseline is None or self.baseline.median <= 0:
            return None
        return self.measured.median / self.baseline.median

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "issue": self.issue, "figure": self.figure, "target": self.target,
            "unit": self.unit, "status": self.status, "passed": self.passed, "note": self.note,
            "error": self.error, "baseline_name": self.baseline_name, "ratio": self.ratio,
            "measured": self.measured.to_dict() if self.measured else None,
            "baseline": self.baseline.to_dict() if self.baseline else None,
        }


@dataclass
class CurvePoint:
    size: int
    measured: Summary | None
    baseline: Summary | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.measured is None or self.baseline is None or self.baseline.median <= 0:
            return None
        return self.measured.median / self.baseline.median


@dataclass
class Curve:
    """A scaling curve: the same operation at growing sizes, with its baseline at each size."""

    key: str
    title: str
    size_label: str
    baseline_name: str
    points: list[CurvePoint] = field(default_factory=list)
    note: str = ""
    error: str | None = None
    plot: str | None = None  # path of the PNG, relative to the report

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "title": self.title, "size_label": self.size_label,
            "baseline_name": self.baseline_name, "note": self.note, "error": self.error, "plot": self.plot,
            "points": [{"size": p.size, "note": p.note, "ratio": p.ratio,
                        "measured": p.measured.to_dict() if p.measured else None,
                        "baseline": p.baseline.to_dict() if p.baseline else None} for p in self.points],
        }


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)  # measurements that raised
    anchor: dict[str, Any] | None = None

    def row(self, key: str) -> Row | None:
        return next((r for r in self.rows if r.key == key), None)


def guarded(results: Results, rows: list[Row], what: str, fn: Callable[[], None]) -> None:
    """Run a measurement; if it raises, mark its unfilled rows as errors and record the crash."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - a crashing measurement is reported, not fatal
        text = f"{type(exc).__name__}: {exc}"
        results.crashes.append(f"{what}: {text}\n{traceback.format_exc()}")
        for row in rows:
            if row.measured is None and row.status == "measured":
                row.status = "error"
                row.error = text


@cache
def house_rows_1k() -> tuple[dict[str, list[float]], ...]:
    """The tutorial's 1,000 houses (18 floats each) as insertAll-style JSON rows."""
    return tuple(json.loads(HOUSES_PATH.read_text(encoding="utf-8")))


def house_rows(n: int) -> list[dict[str, list[float]]]:
    """``n`` house rows: the tutorial's 1,000 repeated (deterministic)."""
    base = house_rows_1k()
    reps, rest = divmod(n, len(base))
    return list(base) * reps + list(base[:rest])


def house_array(n: int, dtype: Any = None) -> Any:
    """``n`` houses as a numpy array [n, 18] (float32 by default, as the model takes)."""
    import numpy as np

    base = np.asarray([r["tensor"] for r in house_rows_1k()], dtype=dtype or np.float32)
    reps = -(-n // len(base))
    return np.tile(base, (reps, 1))[:n].copy()


def house_frame(n: int) -> Any:
    """``n`` houses as a DataFrame with a ``tensor`` column of float64 numpy arrays (like to_dataframe)."""
    import pandas as pd

    array = house_array(n, dtype="float64")
    return pd.DataFrame({"tensor": list(array)})
