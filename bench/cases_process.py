"""Figures measured in subprocesses: the replay's wall time and the peak memory of workloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.config import Mode
from bench.measure import REPO, Results, Row, Summary, guarded, timed

CHILD = Path(__file__).resolve().parent / "child.py"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONHASHSEED", "0")
    # as a user's install runs: modules compiled once and cached (pip compiles the libraries of the floor
    # at install time; without this our own modules would be compiled again in every child)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(args: list[str]) -> None:
    done = subprocess.run(args, cwd=REPO, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")


def measure_replay(results: Results, mode: Mode) -> None:
    """``python -m tutorial_replay`` as a subprocess, against ``python -c pass``."""
    row = Row("replay.wall", "#5", "`python -m tutorial_replay` wall time incl. interpreter start", "< 3 s",
              baseline_name="`python -c pass`")
    results.rows.append(row)

    def run() -> None:
        replay = [sys.executable, "-m", "tutorial_replay"]
        empty = [sys.executable, "-c", "pass"]
        _run(replay)  # warm the file cache
        ours, raw = [], []
        for _ in range(mode.reps_slow):
            raw.append(timed(lambda: _run(empty)))
            ours.append(timed(lambda: _run(replay)))
        row.measured, row.baseline = Summary(ours), Summary(raw)
        row.passed = row.measured.median < 3.0
        row.note = "subprocess, output discarded, exit status checked"

    guarded(results, [row], "replay wall time", run)


def measure_replay_floor(results: Results, mode: Mode) -> None:
    """``python -m tutorial_replay`` against the import floor (the libraries the tutorial needs, imported in a
    fresh process), and a fresh emulator's first entry in a new process after that floor (issue 12)."""
    from bench.child import FLOOR_IMPORTS

    floor_names = ", ".join(FLOOR_IMPORTS)
    replay = Row("replay.floor", "#12", "`python -m tutorial_replay` wall time against its import floor",
                 "≤ 1.6× baseline", baseline_name=f"`python -c 'import {floor_names}'`")
    entry = Row("entry.first", "#12", "a fresh emulator's first entry in a new process, beyond the import floor",
                "≤ 100 ms", baseline_name="the import floor in the same child")
    results.rows.extend([replay, entry])

    def run_replay() -> None:
        command = [sys.executable, "-m", "tutorial_replay"]
        floor = [sys.executable, "-c", "; ".join(f"import {name}" for name in FLOOR_IMPORTS)]
        _run(command)  # warm the file cache
        _run(floor)
        ours, raw = [], []
        for _ in range(max(mode.reps_slow, 3)):  # interleaved: both see the same machine load
            raw.append(timed(lambda: _run(floor)))
            ours.append(timed(lambda: _run(command)))
        replay.measured, replay.baseline = Summary(ours), Summary(raw)
        replay.passed = replay.ratio is not None and replay.ratio <= 1.6
        replay.note = ("subprocesses, output discarded, exit status checked; each replay run next to a floor run; "
                       f"the floor imports {floor_names} and nothing else")

    def run_entry() -> None:
        entries, floors, exits = [], [], []
        for _ in range(max(mode.reps_slow, 3)):
            info = _child("first-entry")
            entries.append(info["entry_seconds"])
            floors.append(info["floor_seconds"])
            exits.append(info["exit_seconds"])
        entry.measured, entry.baseline = Summary(entries), Summary(floors)
        entry.passed = entry.measured.median <= 0.100
        entry.note = ("one child process per repeat (`bench/child.py first-entry`): the floor's imports, then timed: "
                      "`import emulator`, `Emulator()` and entering it; exit + close then take "
                      f"{Summary(exits).median * 1e3:.1f} ms")

    guarded(results, [replay], "replay against the import floor", run_replay)
    guarded(results, [entry], "first entry", run_entry)


def _child(*args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, str(CHILD), *args], cwd=REPO, env=_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"child {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_memory(results: Results, mode: Mode) -> None:
    """Peak RSS of the replay and of the big load, each in its own process."""
    big = mode.big_rows
    replay = Row("mem.replay", "#12", "peak memory (RSS) of the tutorial replay", "≤ 250 MiB", unit="B",
                 baseline_name="the import floor in a child process")
    load = Row("mem.load", "#6", f"peak memory (RSS) of a {big:,}-row `load_table_from_dataframe`", "— (reported)",
               unit="B", baseline_name=f"raw DuckDB load of the same {big:,}-row DataFrame")
    results.rows.extend([replay, load])

    def peak(info: dict[str, float]) -> float:
        # children_maxrss_bytes is not used: on Linux a grandchild's ru_maxrss starts from the size of
        # the process that spawned it; the replay runs its tasks in-process anyway.
        return float(info["maxrss_bytes"])

    def run_replay() -> None:
        empty = peak(_child("empty"))
        replay.baseline = Summary([peak(_child("floor"))])
        replay.measured = Summary([peak(_child("replay"))])
        replay.passed = replay.measured.median <= 250 * 1024 * 1024
        replay.note = ("one child process each (`bench/child.py`), peak RSS = VmHWM of the child; "
                       "the workload runs in-process (`tutorial_replay.replay.main`); the floor imports the "
                       f"tutorial's libraries and nothing else; an empty Python process: {empty / 2**20:.0f} MiB")

    def run_load() -> None:
        load.measured = Summary([peak(_child("load-emulator", str(big)))])
        load.baseline = Summary([peak(_child("load-duckdb", str(big)))])
        load.note = ("each in its own process, including building the DataFrame of 18-float arrays"
                     + ("" if big == 1_000_000 else "; quick mode: smaller"))

    guarded(results, [replay], "replay memory", run_replay)
    guarded(results, [load], "load memory", run_load)
