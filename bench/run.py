"""Run every benchmark in one process run and write BENCHMARKS.md (``python bench/run.py --help``).

Exit status: 0 when every measurement ran (whether or not figures met their targets, which
drift on shared machines), 1 when a measurement crashed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import faulthandler
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.config import FULL, QUICK, Mode  # noqa: E402

STEP_LIMIT_S = 1800  # one measurement step's real-time limit (the full run's slowest takes ~10 min)
from bench.measure import REPO, Results  # noqa: E402

GROUPS = ("bigquery", "curves", "inference", "orchestration", "wire", "server", "replay", "memory", "time")


def _steps() -> dict[str, list[Callable[[Results, Mode], None]]]:
    from bench import cases_bigquery as bq
    from bench import cases_process as proc
    from bench import cases_server as server
    from bench import cases_time as tm
    from bench import cases_wallaroo as wal
    from bench import cases_wire as wire

    return {
        "bigquery": [bq.measure_fresh_emulator, bq.measure_first_query, bq.measure_queries],
        "curves": [bq.measure_curves],
        "inference": [wal.measure_inference],
        "orchestration": [wal.measure_run_once, wal.measure_schedules, wal.measure_isolated_runs],
        "wire": [wire.measure_request, wire.measure_real_sdk],
        "server": [server.measure_select1, server.measure_start],
        "replay": [proc.measure_replay, proc.measure_replay_floor],
        "memory": [proc.measure_memory],
        "time": [tm.measure_time_patches],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (CI smoke run, < 60 s)")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the report (default: BENCHMARKS.md at the repository root)")
    parser.add_argument("--plots", type=Path, default=None,
                        help="directory of the PNG plots (default: bench/plots for the default output, "
                             "else <output stem>-plots next to the output)")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results as JSON")
    parser.add_argument("--only", default=None, help=f"comma-separated groups to run: {', '.join(GROUPS)}")
    parser.add_argument("--anchor", choices=["bqemulator"], default=None,
                        help="also run the BigQuery operations against bqemulator (full mode only; needs PyPI)")
    parser.add_argument("--anchor-venv", type=Path, default=None,
                        help="virtual environment for the anchor (default: ~/.cache/wallaroo-emulator-bench/bqemulator)")
    parser.add_argument("--sdk-python", type=Path, default=None,
                        help="interpreter with the real wallaroo SDK for the wire.sdk figures (default: this one if "
                             "it has wallaroo, else $WALLAROO_SDK_PYTHON, else .venv-sdk/bin/python)")
    args = parser.parse_args(argv)
    if args.sdk_python is not None:
        from bench import cases_wire

        cases_wire.SDK_PYTHON["path"] = str(args.sdk_python)
    if args.anchor and args.quick:
        parser.error("--anchor is not run in quick mode")

    mode = QUICK if args.quick else FULL
    output = args.output or (REPO / "BENCHMARKS.md")
    if args.plots is not None:
        plots = args.plots
    elif args.output is None:
        plots = REPO / "bench" / "plots"
    else:
        plots = output.parent / f"{output.stem}-plots"
    groups = GROUPS if not args.only else tuple(g.strip() for g in args.only.split(","))
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups: {', '.join(sorted(unknown))}")

    warnings.simplefilter("ignore")
    from bench.measure import timed
    from bench.report import draw_plots, machine, render

    started = dt.datetime.now(dt.UTC)  # the one wall-clock read: when the run happened
    info = machine()
    results = Results()
    steps = _steps()

    def run_all() -> None:
        from emulator.clock import keep_time_patches

        for group in groups:
            if group != "bigquery":  # measure_fresh_emulator pins them itself, after its unpinned figures
                keep_time_patches()  # as the pytest plugin does: cheap fresh emulators
            for step in steps[group]:
                print(f"[bench] {step.__module__.split('.')[-1]}.{step.__name__} ...", file=sys.stderr, flush=True)
                first_row, first_curve = len(results.rows), len(results.curves)
                # a step that hangs prints every thread's stack and ends the run (real time)
                faulthandler.dump_traceback_later(STEP_LIMIT_S, exit=True)
                try:
                    step(results, mode)
                except Exception as exc:  # noqa: BLE001 - recorded; the run goes on
                    import traceback

                    text = f"{type(exc).__name__}: {exc}"
                    results.crashes.append(f"{step.__name__}: {text}\n{traceback.format_exc()}")
                    for row in results.rows[first_row:]:
                        if row.measured is None and row.status == "measured":
                            row.status, row.error = "error", text
                    for curve in results.curves[first_curve:]:
                        curve.error = curve.error or text
                finally:
                    faulthandler.cancel_dump_traceback_later()
        if args.anchor == "bqemulator":
            from bench.anchor import measure_bqemulator

            print("[bench] anchor: bqemulator ...", file=sys.stderr, flush=True)
            results.anchor = measure_bqemulator(results, mode, venv=args.anchor_venv)

    elapsed = timed(run_all)
    plots_note = draw_plots(results, plots, output.parent)
    command = "python bench/run.py" + (" --quick" if args.quick else "") + (
        f" --anchor {args.anchor}" if args.anchor else "")
    text = render(results, mode_name="quick" if args.quick else "full",
                  started=started.strftime("%Y-%m-%d %H:%M"), elapsed=elapsed, info=info,
                  plots_note=plots_note, command=command)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({
            "started": started.isoformat(), "elapsed_s": elapsed, "mode": "quick" if args.quick else "full",
            "machine": info, "rows": [r.to_dict() for r in results.rows],
            "curves": [c.to_dict() for c in results.curves], "crashes": results.crashes,
            "anchor": _anchor_json(results.anchor),
        }, indent=1, default=str), encoding="utf-8")
    held = sum(1 for r in results.rows if r.passed)
    missed = [r.key for r in results.rows if r.passed is False]
    print(f"[bench] wrote {output} in {elapsed:.1f} s: {held} targets held, {len(missed)} missed"
          + (f" ({', '.join(missed)})" if missed else "") + (f"; {len(results.crashes)} crashed" if results.crashes
                                                              else ""), file=sys.stderr)
    for crash in results.crashes:
        print(crash, file=sys.stderr)
    return 1 if results.crashes else 0


def _anchor_json(anchor: dict | None) -> dict | None:
    if anchor is None:
        return None
    out = {k: v for k, v in anchor.items() if k != "ops"}
    out["ops"] = [{"name": op["name"], "error": op.get("error"),
                   "ours": op["ours"].to_dict() if op.get("ours") else None,
                   "theirs": op["theirs"].to_dict() if op.get("theirs") else None} for op in anchor.get("ops", [])]
    return out


if __name__ == "__main__":
    raise SystemExit(main())
