"""Time patching (issue 9): the emulator's patches (time-machine underneath) against freezegun's.

Each side is measured in a fresh child process that first loads what a test session of this
project loads (pandas, pyarrow, DuckDB, onnxruntime, the BigQuery client, the emulator: about
1,300 modules), because freezegun's start and stop walk every loaded module. freezegun is
measured as its users meet it (``freeze_time(...).start()``/``stop()``); it is the baseline
column. ``python -m bench.cases_time ours|freezegun`` prints one child's figures as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.config import Mode
from bench.measure import REPO, Results, Row, Summary, guarded

#: what a test session of this project has loaded before its first emulator
PRELOADED = ("pandas", "pyarrow", "duckdb", "onnxruntime", "google.cloud.bigquery", "sqlglot", "respx",
             "responses", "emulator", "emulator.emulator")


def _child(which: str, repeats: int) -> dict[str, object]:
    """Runs in the child: load the modules, then time the patches (a local clock survives freezegun's walk)."""
    import datetime as dt
    import importlib
    import statistics
    import time

    clock_read = time.perf_counter  # bound before anything patches time; locals are out of any walk

    def seconds(fn) -> float:
        start = clock_read()
        fn()
        return clock_read() - start

    def per_call(fn, calls: int = 20_000) -> float:
        start = clock_read()
        for _ in range(calls):
            fn()
        return (clock_read() - start) / calls

    for name in PRELOADED:
        importlib.import_module(name)
    out: dict[str, object] = {"modules": len(sys.modules), "real_time_call": per_call(time.time)}
    if which == "ours":
        from emulator import clock as clock_module

        clock = clock_module.Clock()
        out["first"] = seconds(clock_module.keep_time_patches)  # imports time-machine, installs
        clock_module.release_time_patches()

        def unpinned() -> None:
            clock_module.activate(clock)
            clock_module.deactivate(clock)

        out["enter_exit"] = [seconds(unpinned) for _ in range(repeats)]
        clock_module.keep_time_patches()
        out["pinned"] = [seconds(unpinned) for _ in range(repeats)]
        clock_module.activate(clock)
        out["time_call"] = per_call(time.time)
        out["now_call"] = per_call(dt.datetime.now)
        out["monotonic_call"] = per_call(time.monotonic)
        clock_module.deactivate(clock)
        clock_module.release_time_patches()
    else:
        import freezegun

        freezer = freezegun.freeze_time("2023-05-10 21:00:00")
        out["first"] = seconds(freezer.start)
        freezer.stop()

        def start_stop() -> None:
            freezer.start()
            freezer.stop()

        out["enter_exit"] = [seconds(start_stop) for _ in range(max(repeats // 10, 5))]
        freezer.start()
        out["time_call"] = per_call(time.time)
        out["now_call"] = per_call(dt.datetime.now)
        out["monotonic_call"] = per_call(time.monotonic)
        freezer.stop()
    out["median_enter_exit"] = statistics.median(out["enter_exit"])  # type: ignore[arg-type]
    return out


def _run_child(which: str, repeats: int) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "bench.cases_time", which, str(repeats)], cwd=REPO,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"child {which} exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_time_patches(results: Results, mode: Mode) -> None:
    """First install, enter + exit, and read costs of the time patches, ours against freezegun's."""
    first = Row("time.first", "#9", "first install of the time patches, a test session's ~1,300 modules loaded (incl. import)",
                "— (reported)", baseline_name="freezegun `freeze_time().start()`, first in the process")
    cycle = Row("time.enter_exit", "#9", "time patches on + off (unpinned emulator entry + exit)", "— (reported)",
                baseline_name="freezegun `start()` + `stop()`")
    pinned = Row("time.pinned", "#9", "clock activate + deactivate with the patches pinned (per test)",
                 "— (reported)")
    read = Row("time.read", "#9", "one `time.time()` under an active clock", "— (reported)",
               baseline_name="the same under freezegun")
    now = Row("time.now", "#9", "one `datetime.now()` under an active clock", "— (reported)",
              baseline_name="the same under freezegun")
    results.rows.extend([first, cycle, pinned, read, now])

    def run() -> None:
        import importlib.util

        repeats = mode.reps_fast * 10
        children = 1 if mode.quick else mode.reps_slow  # a child loads ~1,400 modules: seconds each
        firsts, cycles, pins, reads, nows, monos = [], [], [], [], [], []
        for _ in range(children):
            ours = _run_child("ours", repeats)
            firsts.append(ours["first"])
            cycles.append(ours["median_enter_exit"])
            pins.extend(ours["pinned"])
            reads.append(ours["time_call"])
            nows.append(ours["now_call"])
            monos.append(ours["monotonic_call"])
        first.measured, cycle.measured = Summary(firsts), Summary(cycles)
        pinned.measured, read.measured, now.measured = Summary(pins), Summary(reads), Summary(nows)
        modules = ours["modules"]
        if importlib.util.find_spec("freezegun") is None:
            for row in (first, cycle, read, now):
                row.note = "freezegun not installed (`pip install -e '.[bench]'`): no baseline"
            return
        theirs = [_run_child("freezegun", repeats) for _ in range(children)]
        first.baseline = Summary([t["first"] for t in theirs])
        cycle.baseline = Summary([t["median_enter_exit"] for t in theirs])
        read.baseline = Summary([t["time_call"] for t in theirs])
        now.baseline = Summary([t["now_call"] for t in theirs])
        first.note = (f"each in a fresh child process with {modules:,} modules loaded; ours includes importing "
                      "time-machine (pytest kept out of its import when not loaded)")
        cycle.note = ("ours: install (time-machine traveller, monotonic/sleep replaced), activate, deactivate, "
                      "uninstall; median per child, one value per child process; freezegun walks every module "
                      "on start and on stop")
        pinned.note = "what each `emulator` fixture costs once the plugin pinned the patches"
        read.note = (f"real `time.time()`: {ours['real_time_call'] * 1e9:.0f} ns; our `time.monotonic()`: "
                     f"{statistics_median(monos) * 1e9:.0f} ns (freezegun: "
                     f"{statistics_median([t['monotonic_call'] for t in theirs]) * 1e9:.0f} ns)")

    guarded(results, [first, cycle, pinned, read, now], "time patches", run)


def statistics_median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], int(sys.argv[2]))))
