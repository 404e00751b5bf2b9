"""BigQuery figures (issue 2) and scaling curves, through the real google-cloud-bigquery client.

Baselines are raw DuckDB doing the same work in the same process: a fresh in-memory
connection, ``SELECT 1``, a scan to a DataFrame, an insert of the same rows (as Arrow), a load
of the same DataFrame, ``COUNT(*)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from bench.config import Mode
from bench.measure import (
    Curve,
    CurvePoint,
    Results,
    Row,
    Summary,
    guarded,
    house_frame,
    house_rows,
    repeat,
    timed,
)

PROJECT = "bench"
DATASET = "ds"
TENSOR_SCHEMA = [{"name": "tensor", "type": "FLOAT64", "mode": "REPEATED"}]
#: insert_rows_json requests carry at most this many rows (BigQuery caps a request at 10 MB; 10,000
#: house rows are about 4 MB), so larger inserts are several calls, as they must be against BigQuery.
INSERT_CHUNK = 10_000

_names = itertools.count()


def _fresh_name(prefix: str) -> str:
    return f"{prefix}_{next(_names)}"


def measure_fresh_emulator(results: Results, mode: Mode) -> None:
    """Enter + exit of a fresh emulator: first (unpinned) costs, then with time patches pinned.

    Must run before any other emulator of the process was entered.
    """
    from emulator import Emulator
    from emulator.clock import keep_time_patches

    row = Row("bq.fresh", "#2", "fresh emulator per test: construct + enter + exit + close", "< 20 ms",
              baseline_name="duckdb.connect() + close()")
    results.rows.append(row)

    def fresh() -> None:
        emu = Emulator()
        emu.start()
        emu.stop()
        emu.close()

    def run() -> None:
        import duckdb

        first = timed(fresh)  # installs and removes the time patches, plus first-use imports
        second = timed(fresh)  # unpinned, without first-use imports
        keep_time_patches()  # as the pytest plugin does for a test session
        row.measured = repeat(fresh, mode.reps_fast * 5, warmup=2)

        def raw() -> None:
            duckdb.connect().close()

        row.baseline = repeat(raw, mode.reps_fast * 5, warmup=2)
        row.passed = row.measured.median < 0.020
        row.note = (f"time patches pinned (keep_time_patches, as the pytest plugin does); unpinned: first in the "
                    f"process {first * 1e3:.0f} ms (imports + patch install), then {second * 1e3:.1f} ms each")

    guarded(results, [row], "fresh emulator", run)


def measure_first_query(results: Results, mode: Mode) -> None:
    """A fresh emulator to the result of its first query (DuckDB is opened lazily)."""
    from emulator import Emulator

    row = Row("bq.first_query", "#2", "fresh emulator + client + first `SELECT 1`", "— (bqemulator: ~1.1 s)",
              baseline_name="fresh duckdb.connect() + SELECT 1")
    results.rows.append(row)

    def ours() -> None:
        with Emulator() as emu:
            client = emu.bigquery_client(project=PROJECT)
            list(client.query("SELECT 1").result())
        emu.close()

    def run() -> None:
        import duckdb

        row.measured = repeat(ours, mode.reps_fast, warmup=1)

        def raw() -> None:
            con = duckdb.connect()
            con.execute("SELECT 1").fetchall()
            con.close()

        row.baseline = repeat(raw, mode.reps_fast, warmup=1)
        row.note = "not a target of issue 2; for comparison with bqemulator's time to first query"

    guarded(results, [row], "first query", run)


class _Bench:
    """An active emulator with a client and a raw DuckDB connection side by side."""

    def __init__(self, emu: Any) -> None:
        import duckdb

        self.emu = emu
        self.client = emu.bigquery_client(project=PROJECT)
        emu.bigquery.create_dataset(PROJECT, DATASET, exists_ok=True)
        self.raw = duckdb.connect()

    def table_with_rows(self, n: int) -> tuple[str, str]:
        """A BigQuery table and a raw DuckDB table, each holding ``n`` house rows."""
        import pyarrow as pa

        name = _fresh_name(f"houses{n}")
        arrow = pa.table({"tensor": pa.array(list(house_frame(n)["tensor"]), type=pa.list_(pa.float64()))})
        self.emu.bigquery.create_table(PROJECT, DATASET, name, TENSOR_SCHEMA)
        self.emu.bigquery.load_arrow(PROJECT, DATASET, name, arrow)
        self.raw.execute(f"CREATE TABLE {name} AS SELECT * FROM arrow")
        return name, name

    def scan(self, table: str) -> Callable[[], Any]:
        sql = f"SELECT tensor FROM {DATASET}.{table}"

        def run() -> Any:
            frame = self.client.query(sql).to_dataframe(create_bqstorage_client=False)
            assert len(frame) > 0
            return frame

        return run

    def raw_scan(self, table: str) -> Callable[[], Any]:
        return lambda: self.raw.execute(f"SELECT tensor FROM {table}").df()

    def insert_json(self, rows: list[dict[str, Any]]) -> tuple[Callable[[], None], Callable[[], None]]:
        state: dict[str, str] = {}

        def setup() -> None:
            state["table"] = _fresh_name("ins")
            self.emu.bigquery.create_table(PROJECT, DATASET, state["table"], TENSOR_SCHEMA)

        def run() -> None:
            ref = f"{PROJECT}.{DATASET}.{state['table']}"
            for start in range(0, len(rows), INSERT_CHUNK):
                errors = self.client.insert_rows_json(ref, rows[start:start + INSERT_CHUNK])
                assert not errors, errors[:3]

        return setup, run

    def raw_insert(self, rows: list[dict[str, Any]]) -> tuple[Callable[[], None], Callable[[], None]]:
        import pyarrow as pa

        state: dict[str, str] = {}

        def setup() -> None:
            state["table"] = _fresh_name("rawins")
            self.raw.execute(f"CREATE TABLE {state['table']} (tensor DOUBLE[])")

        def run() -> None:
            arrow = pa.Table.from_pylist(rows)  # noqa: F841 - read by DuckDB's replacement scan
            self.raw.execute(f"INSERT INTO {state['table']} SELECT * FROM arrow")

        return setup, run

    def load_frame(self, frame: Any, table: str) -> Callable[[], None]:
        from google.cloud import bigquery

        config = bigquery.LoadJobConfig(schema=[bigquery.SchemaField("tensor", "FLOAT64", mode="REPEATED")],
                                        write_disposition="WRITE_TRUNCATE")

        def run() -> None:
            self.client.load_table_from_dataframe(frame, f"{PROJECT}.{DATASET}.{table}", job_config=config).result()

        return run

    def raw_load(self, frame: Any, table: str) -> Callable[[], None]:
        view = _fresh_name("frame")
        self.raw.register(view, frame)

        def run() -> None:
            self.raw.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {view}")

        return run

    def close(self) -> None:
        self.raw.close()


def measure_queries(results: Results, mode: Mode) -> None:
    """SELECT 1, the 1k-row scan, the 10k-row insert, the big load and COUNT(*)."""
    from emulator import Emulator

    select1 = Row("bq.select1", "#2", "`SELECT 1` through the real client (query → rows)", "< 3 ms",
                  baseline_name="duckdb SELECT 1 fetchall")
    scan = Row("bq.scan1k", "#2", "1,000-row ARRAY<FLOAT64> (18 floats) table → DataFrame", "< 15 ms",
               baseline_name="duckdb SELECT … .df()")
    insert = Row("bq.insert10k", "#2", "10,000 rows via `insert_rows_json` (one request)", "< 1 s",
                 baseline_name="duckdb INSERT of the rows as Arrow")
    big = mode.big_rows
    judged = big == 1_000_000
    load = Row("bq.load1m", "#2", f"{big:,} rows via `load_table_from_dataframe`",
               "< 5 s" if judged else "< 5 s (at 1,000,000 rows)", baseline_name="duckdb CREATE TABLE AS SELECT * FROM df")
    count = Row("bq.count1m", "#2", f"then `SELECT COUNT(*)` over the {big:,} rows", "< 50 ms",
                baseline_name="duckdb SELECT COUNT(*)")
    rows = [select1, scan, insert, load, count]
    results.rows.extend(rows)

    with Emulator() as emu:
        b = _Bench(emu)
        try:
            def do_select1() -> None:
                def ours() -> None:
                    assert list(b.client.query("SELECT 1").result())[0][0] == 1

                select1.measured = repeat(ours, mode.reps_fast * 2, warmup=3)
                select1.baseline = repeat(lambda: b.raw.execute("SELECT 1").fetchall(), mode.reps_fast * 2, warmup=3)
                select1.passed = select1.measured.median < 0.003

            def do_scan() -> None:
                table, raw_table = b.table_with_rows(1_000)
                scan.measured = repeat(b.scan(table), mode.reps_fast, warmup=2)
                scan.baseline = repeat(b.raw_scan(raw_table), mode.reps_fast, warmup=2)
                scan.passed = scan.measured.median < 0.015
                scan.note = "`query(...).to_dataframe(create_bqstorage_client=False)`"

            def do_insert() -> None:
                data = house_rows(10_000)
                setup, run = b.insert_json(data)
                insert.measured = repeat(run, mode.reps_slow, warmup=1, setup=setup)
                raw_setup, raw_run = b.raw_insert(data)
                insert.baseline = repeat(raw_run, mode.reps_slow, warmup=1, setup=raw_setup)
                insert.passed = insert.measured.median < 1.0
                insert.note = "each repeat into a new empty table; default insertIds (one uuid per row)"

            def do_load() -> None:
                frame = house_frame(big)
                table = _fresh_name("big")
                load.measured = repeat(b.load_frame(frame, table), mode.reps_slow, warmup=0)
                load.baseline = repeat(b.raw_load(frame, table), mode.reps_slow, warmup=0)
                load.passed = load.measured.median < 5.0 if judged else None
                load.note = ("DataFrame with a `tensor` column of 18-float numpy arrays; explicit REPEATED FLOAT64 "
                             "schema, WRITE_TRUNCATE" + ("" if judged else "; quick mode: smaller, not judged"))

                sql = f"SELECT COUNT(*) FROM {DATASET}.{table}"

                def ours() -> None:
                    assert list(b.client.query(sql).result())[0][0] == big

                count.measured = repeat(ours, mode.reps_fast, warmup=1)
                count.baseline = repeat(lambda: b.raw.execute(f"SELECT COUNT(*) FROM {table}").fetchall(),
                                        mode.reps_fast, warmup=1)
                count.passed = count.measured.median < 0.050
                if not judged:
                    count.note = "quick mode: smaller table"

            guarded(results, [select1], "SELECT 1", do_select1)
            guarded(results, [scan], "1k-row scan", do_scan)
            guarded(results, [insert], "10k-row insert_rows_json", do_insert)
            guarded(results, [load, count], "big load + COUNT(*)", do_load)
        finally:
            b.close()
    emu.close()


def _curve_points(curve: Curve, mode: Mode, point: Callable[[int, int, int], tuple[Summary, Summary]]) -> None:
    """Fill a curve, skipping sizes whose projected time exceeds the per-point budget."""
    previous: tuple[int, float] | None = None
    for size in mode.sizes:
        if previous is not None:
            projected = previous[1] * size / previous[0]
            if projected > mode.point_budget_s:
                curve.points.append(CurvePoint(size, None, None,
                                               f"skipped: projected {projected:.0f} s > {mode.point_budget_s:.0f} s budget"))
                continue
        reps = mode.reps_at(size)
        warmup = 1 if size <= 10_000 else 0
        measured, baseline = point(size, reps, warmup)
        curve.points.append(CurvePoint(size, measured, baseline))
        previous = (size, measured.median)


def measure_curves(results: Results, mode: Mode) -> None:
    """Query → DataFrame, insert_rows_json and load_table_from_dataframe at growing row counts."""
    from emulator import Emulator

    scan = Curve("curve.scan", "query → DataFrame (`to_dataframe`, REST)", "rows", "duckdb SELECT … .df()")
    insert = Curve("curve.insert", f"`insert_rows_json` ({INSERT_CHUNK:,} rows per request)", "rows",
                   "duckdb INSERT of the rows as Arrow")
    load = Curve("curve.load", "`load_table_from_dataframe`", "rows", "duckdb CREATE TABLE AS SELECT * FROM df")
    results.curves.extend([scan, insert, load])

    def run_curve(curve: Curve, point: Callable[[int, int, int], tuple[Summary, Summary]]) -> None:
        def run() -> None:
            _curve_points(curve, mode, point)

        try:
            run()
        except Exception as exc:  # noqa: BLE001
            curve.error = f"{type(exc).__name__}: {exc}"
            results.crashes.append(f"{curve.key}: {curve.error}")

    with Emulator() as emu:
        b = _Bench(emu)
        try:
            def scan_point(size: int, reps: int, warmup: int) -> tuple[Summary, Summary]:
                table, raw_table = b.table_with_rows(size)
                return (repeat(b.scan(table), reps, warmup=warmup),
                        repeat(b.raw_scan(raw_table), reps, warmup=warmup))

            def insert_point(size: int, reps: int, warmup: int) -> tuple[Summary, Summary]:
                data = house_rows(size)
                setup, run = b.insert_json(data)
                raw_setup, raw_run = b.raw_insert(data)
                return (repeat(run, reps, warmup=warmup, setup=setup),
                        repeat(raw_run, reps, warmup=warmup, setup=raw_setup))

            def load_point(size: int, reps: int, warmup: int) -> tuple[Summary, Summary]:
                frame = house_frame(size)
                table = _fresh_name("load")
                return (repeat(b.load_frame(frame, table), reps, warmup=warmup),
                        repeat(b.raw_load(frame, table), reps, warmup=warmup))

            run_curve(scan, scan_point)
            scan.note = "`create_bqstorage_client=False`; the table is an ARRAY<FLOAT64> of 18 floats per row"
            run_curve(insert, insert_point)
            insert.note = "each repeat into a new empty table"
            run_curve(load, load_point)
            load.note = "WRITE_TRUNCATE into the same table"
        finally:
            b.close()
    emu.close()
