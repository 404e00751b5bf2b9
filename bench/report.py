"""BENCHMARKS.md and the PNG plots of the scaling curves."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.measure import Curve, Results, Row, Summary

LIBRARIES = ("duckdb", "onnxruntime", "numpy", "pandas", "pyarrow", "google-cloud-bigquery", "sqlglot",
             "time-machine", "freezegun", "responses", "matplotlib")


def code_version() -> str:
    """The commit measured (and whether the work tree differed from it)."""
    import subprocess

    from bench.measure import REPO

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "emulator",
                                "tutorial_replay", "bench"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes in emulator/, tutorial_replay/ or bench/" if dirty else "")


def machine() -> dict[str, Any]:
    """Where the run happened: platform, CPUs, memory, Python and library versions."""
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count() or 0
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "platform": platform.platform(), "machine": platform.machine(), "cpu": cpu,
        "cpu_count": os.cpu_count(), "cpus_usable": usable, "memory": memory,
        "python": sys.version.split()[0], "implementation": platform.python_implementation(), "versions": versions,
        "code": code_version(),
    }


def fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "—"
    if unit == "B":
        return f"{value / 1024 / 1024:,.0f} MiB"
    if unit == "count":
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 0.001:
        return f"{value * 1e3:.2f} ms"
    if value >= 1e-5:
        return f"{value * 1e6:.0f} µs"
    if value >= 1e-6:
        return f"{value * 1e6:.1f} µs"
    return f"{value * 1e9:.0f} ns"


def _spread(summary: Summary | None, unit: str) -> str:
    if summary is None:
        return "—"
    if summary.n == 1:
        return "(1 run)"
    lo, hi = summary.spread
    return f"{fmt(lo, unit)} – {fmt(hi, unit)} ({summary.spread_kind}, n={summary.n})"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}×"


def _result(row: Row) -> str:
    if row.status == "error":
        return f"error: {row.error}"
    if row.status in ("skipped", "not available"):
        return row.status
    if row.passed is None:
        return "—"
    return "pass" if row.passed else "**miss**"


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rows_table(rows: list[Row]) -> list[str]:
    out = ["| issue | figure | target | measured (median) | spread | baseline | baseline (median) | ratio | result |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        out.append("| " + " | ".join([
            r.issue, _esc(r.figure), _esc(r.target),
            fmt(r.measured.median, r.unit) if r.measured else "—",
            _spread(r.measured, r.unit), _esc(r.baseline_name),
            fmt(r.baseline.median, r.unit) if r.baseline else "—",
            _ratio(r.ratio), _esc(_result(r)),
        ]) + " |")
    notes = [f"* **{_esc(r.figure)}**: {r.note}" for r in rows if r.note]
    if notes:
        out += ["", "Notes:", ""] + notes
    return out


def curve_table(curve: Curve) -> list[str]:
    has_baseline = any(p.baseline is not None for p in curve.points)
    head = f"| {curve.size_label} | measured (median) | spread |"
    sep = "| ---: | ---: | --- |"
    if has_baseline:
        head += f" {_esc(curve.baseline_name)} (median) | ratio |"
        sep += " ---: | ---: |"
    head += " per 1k rows | note |" if curve.size_label == "rows" else " note |"
    sep += " ---: | --- |" if curve.size_label == "rows" else " --- |"
    out = [head, sep]
    for p in curve.points:
        cells = [f"{p.size:,}", fmt(p.measured.median) if p.measured else "—", _spread(p.measured, "s")]
        if has_baseline:
            cells += [fmt(p.baseline.median) if p.baseline else "—", _ratio(p.ratio)]
        if curve.size_label == "rows":
            cells.append(fmt(p.measured.median * 1000 / p.size) if p.measured else "—")
        cells.append(_esc(p.note))
        out.append("| " + " | ".join(cells) + " |")
    return out


def draw_plots(results: Results, plots_dir: Path, relative_to: Path) -> str | None:
    """One PNG per curve; returns why none were drawn, or None."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plots not drawn: matplotlib is not installed (`pip install -e '.[bench]'`)"
    plots_dir.mkdir(parents=True, exist_ok=True)
    for curve in results.curves:
        points = [p for p in curve.points if p.measured is not None]
        if not points:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
        xs = [p.size for p in points]
        ax.plot(xs, [p.measured.median for p in points], "o-", label="emulator (median)")
        for p in points:
            lo, hi = p.measured.spread
            ax.vlines(p.size, lo, hi, colors="C0", alpha=0.5)
        base = [p for p in points if p.baseline is not None]
        if base:
            ax.plot([p.size for p in base], [p.baseline.median for p in base], "s--", label=curve.baseline_name)
        if curve.size_label == "rows":
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(curve.size_label)
        ax.set_ylabel("seconds (wall)")
        ax.set_title(curve.title.replace("`", ""), fontsize=10)
        if curve.size_label == "days":
            for p in points:
                if p.note:
                    ax.annotate(p.note, (p.size, p.measured.median), textcoords="offset points", xytext=(4, -12),
                                fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = plots_dir / f"{curve.key.replace('.', '_')}.png"
        fig.savefig(path)
        plt.close(fig)
        curve.plot = os.path.relpath(path, relative_to)
    return None


def anchor_table(anchor: dict[str, Any]) -> list[str]:
    if anchor.get("error"):
        return [f"The bqemulator anchor could not be measured: {_esc(anchor['error'])}"]
    out = [f"bqemulator {anchor.get('version', '?')} in its own virtual environment, serving on 127.0.0.1; the same "
           "google-cloud-bigquery client of this process sends the same operations to both.", "",
           "| operation | emulator (median) | bqemulator (median) | bqemulator spread | emulator / bqemulator |",
           "| --- | ---: | ---: | --- | ---: |"]
    for op in anchor["ops"]:
        ours, theirs = op.get("ours"), op.get("theirs")
        ratio = ours.median / theirs.median if ours and theirs and theirs.median > 0 else None
        out.append("| " + " | ".join([
            _esc(op["name"]), fmt(ours.median) if ours else "—",
            fmt(theirs.median) if theirs else _esc(op.get("error", "—")),
            _spread(theirs, "s"), _ratio(ratio)]) + " |")
    if anchor.get("notes"):
        out += ["", *[f"* {n}" for n in anchor["notes"]]]
    return out


def render(results: Results, *, mode_name: str, started: str, elapsed: float, info: dict[str, Any],
           plots_note: str | None, command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` ({mode_name} mode). Every figure is measured next to its baseline in the same "
        "process run — raw DuckDB for BigQuery operations, raw onnxruntime `session.run` for inference, an empty "
        "Python process for start-up — and the ratio to it is reported, because absolute times drift on shared "
        "machines. Wall time is read with `emulator.clock.real_monotonic()` (virtual time is frozen inside an "
        "emulator). Medians of repeated runs; spread is p10–p90 from 10 runs on, min–max below that.",
        "",
        "## When and where",
        "",
        f"* run started {started} (UTC), took {elapsed:.0f} s",
        f"* machine: {info['platform']} ({info['machine']}), {info['cpu'] or 'cpu model unknown'}, "
        f"{info['cpu_count']} CPUs ({info['cpus_usable']} usable), {info['memory'] or 'memory unknown'} memory",
        f"* code measured: commit {info['code']}",
        f"* Python {info['python']} ({info['implementation']})",
        "* " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        "",
        "## Targets",
        "",
    ]
    lines += rows_table(results.rows)
    missed = [r for r in results.rows if r.passed is False]
    lines += ["", f"{sum(1 for r in results.rows if r.passed)} targets held, {len(missed)} missed"
              + (": " + ", ".join(r.key for r in missed) if missed else "") + "."]
    if results.anchor is not None:
        lines += ["", "## Anchor: bqemulator, measured in the same run", ""] + anchor_table(results.anchor)
    lines += ["", "## Scaling curves", ""]
    if plots_note:
        lines += [plots_note, ""]
    for curve in results.curves:
        lines += [f"### {curve.title}", ""]
        if curve.error:
            lines += [f"error: {_esc(curve.error)}", ""]
        if curve.points:
            lines += curve_table(curve) + [""]
        if curve.note:
            lines += [curve.note, ""]
        if curve.plot:
            lines += [f"![{curve.title.replace('`', '')}]({curve.plot})", ""]
    if results.crashes:
        lines += ["## Measurements that crashed", "", "```"]
        for crash in results.crashes:
            lines += crash.rstrip().splitlines()
        lines += ["```", ""]
    lines += ["## Re-running", "",
              "* `python bench/run.py` (or `python -m bench`): full mode, writes this file and `bench/plots/`; "
              "a few minutes.",
              "* `python bench/run.py --quick --output /tmp/BENCHMARKS.quick.md`: the CI smoke run (< 60 s; "
              "figures are not gated on, only crashes fail it).",
              "* `--anchor bqemulator`: also measure bqemulator (creates a virtual environment; needs PyPI).", ""]
    return "\n".join(lines)
