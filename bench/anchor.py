"""``--anchor bqemulator``: the same BigQuery operations against bqemulator, in the same run.

bqemulator (a DuckDB-backed BigQuery emulator served over HTTP and gRPC) is installed into a
separate virtual environment and started on 127.0.0.1 with free ports; the google-cloud-bigquery
client of this process talks to it over a real socket (no emulator is active meanwhile, so
nothing intercepts the requests), exactly as it talks to our emulator in-process.

Facts of bqemulator 1.4.0 offline: it needs ``duckdb<2``, ``numpy`` and DuckDB's spatial
extension, which it tries to download (``INSTALL spatial``) unless it is already installed. The
PyPI package ``duckdb-extension-spatial`` ships the extension file; we copy it into the DuckDB
extension directory of a private ``HOME`` given to the server, so ``INSTALL`` finds it. It
installs google-cloud-bigquery-storage, so results are read with ``create_bqstorage_client=False``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.config import Mode
from bench.measure import Results, Summary, house_frame, house_rows, repeat, timed

PACKAGES = ("bqemulator", "duckdb<2", "duckdb-extension-spatial", "numpy", "google-cloud-bigquery")
DEFAULT_VENV = Path.home() / ".cache" / "wallaroo-emulator-bench" / "bqemulator"
START_TIMEOUT_S = 120.0


class AnchorError(RuntimeError):
    pass


def _run(args: list[str], **kwargs: Any) -> str:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise AnchorError(f"{' '.join(args[:4])} … exited {done.returncode}: {(done.stderr or done.stdout)[-1500:]}")
    return done.stdout


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def prepare(venv: Path) -> dict[str, str]:
    """Create the virtual environment if needed, install the packages, stage the spatial extension."""
    python = _bin(venv, "python")
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(venv)])
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PACKAGES])
    probe = (
        "import duckdb, duckdb_extension_spatial, importlib.metadata as m, json, pathlib\n"
        "base = pathlib.Path(duckdb_extension_spatial.__file__).parent / 'extensions'\n"
        "files = sorted(str(p) for p in base.rglob('spatial.duckdb_extension'))\n"
        "platform = duckdb.sql('PRAGMA platform').fetchone()[0]\n"
        "print(json.dumps({'duckdb': duckdb.__version__, 'platform': platform, 'files': files,"
        " 'bqemulator': m.version('bqemulator')}))\n"
    )
    import json

    facts = json.loads(_run([str(python), "-c", probe]).strip().splitlines()[-1])
    if not facts["files"]:
        raise AnchorError("duckdb-extension-spatial ships no spatial.duckdb_extension")
    home = venv / "home"
    target = home / ".duckdb" / "extensions" / f"v{facts['duckdb']}" / facts["platform"]
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(facts["files"][-1], target / "spatial.duckdb_extension")
    return {"version": facts["bqemulator"], "duckdb": facts["duckdb"], "home": str(home)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_bqemulator(results: Results, mode: Mode, venv: Path | None = None) -> dict[str, Any]:
    """Measure bqemulator; never raises: a failure is reported in the returned dict."""
    venv = venv or DEFAULT_VENV
    anchor: dict[str, Any] = {"ops": [], "notes": [], "venv": str(venv)}
    try:
        facts = prepare(venv)
    except Exception as exc:  # noqa: BLE001 - the anchor is optional: report and go on
        anchor["error"] = f"could not prepare {venv}: {exc}"
        return anchor
    anchor["version"] = facts["version"]
    anchor["notes"].append(f"bqemulator {facts['version']} with duckdb {facts['duckdb']} in `{venv}`; spatial "
                           "extension staged from duckdb-extension-spatial into a private HOME")
    rest, grpc = _free_port(), _free_port()
    env = dict(os.environ, HOME=facts["home"])
    log_path = venv / "server.log"
    with open(log_path, "w", encoding="utf-8") as log:
        started = _real()
        server = subprocess.Popen(
            [str(_bin(venv, "bqemulator")), "start", "--rest-host", "127.0.0.1", "--rest-port", str(rest),
             "--grpc-host", "127.0.0.1", "--grpc-port", str(grpc), "--project", "bench", "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            _measure_ops(results, mode, anchor, f"http://127.0.0.1:{rest}", server, started, log_path)
        except Exception as exc:  # noqa: BLE001
            anchor["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return anchor


def _real() -> float:
    from emulator.clock import real_monotonic

    return real_monotonic()


def _ours(results: Results, key: str) -> Summary | None:
    row = results.row(key)
    return row.measured if row is not None else None


def _measure_ops(results: Results, mode: Mode, anchor: dict[str, Any], url: str, server: subprocess.Popen,
                 started: float, log_path: Path) -> None:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    from emulator.clock import real_sleep

    client = bigquery.Client(project="bench", credentials=AnonymousCredentials(),
                             client_options=ClientOptions(api_endpoint=url))
    # start-up: process spawn to the first answered SELECT 1
    while True:
        if server.poll() is not None:
            raise AnchorError(f"bqemulator exited {server.returncode}: {log_path.read_text()[-1500:]}")
        try:
            list(client.query("SELECT 1").result())
            break
        except Exception:  # noqa: BLE001 - not listening yet
            if _real() - started > START_TIMEOUT_S:
                raise AnchorError(f"bqemulator did not answer within {START_TIMEOUT_S:.0f} s") from None
            real_sleep(0.02)
    startup = _real() - started
    ops = anchor["ops"]
    ops.append({"name": "start-up to the first `SELECT 1` (ours: fresh emulator + client + first query)",
                "ours": _ours(results, "bq.first_query"), "theirs": Summary([startup])})

    def op(name: str, key: str, fn: Any) -> None:
        entry: dict[str, Any] = {"name": name, "ours": _ours(results, key)}
        try:
            entry["theirs"] = fn()
        except Exception as exc:  # noqa: BLE001 - an unsupported operation is a row, not a crash
            entry["error"] = f"error: {type(exc).__name__}: {str(exc)[:200]}"
        ops.append(entry)

    op("`SELECT 1` (query → rows)", "bq.select1",
       lambda: repeat(lambda: list(client.query("SELECT 1").result()), mode.reps_fast * 2, warmup=3))
    client.create_dataset("ds", exists_ok=True)

    def scan() -> Summary:
        client.query("CREATE TABLE ds.scan1k (tensor ARRAY<FLOAT64>)").result()
        errors = client.insert_rows_json("bench.ds.scan1k", house_rows(1_000))
        assert not errors, errors[:3]

        def run() -> None:
            frame = client.query("SELECT tensor FROM ds.scan1k").to_dataframe(create_bqstorage_client=False)
            assert len(frame) == 1_000

        return repeat(run, mode.reps_fast, warmup=2)

    op("1,000-row ARRAY<FLOAT64> table → DataFrame", "bq.scan1k", scan)

    counter = iter(range(10_000))

    def insert() -> Summary:
        rows = house_rows(10_000)
        state: dict[str, str] = {}

        def setup() -> None:
            state["t"] = f"ins{next(counter)}"
            client.query(f"CREATE TABLE ds.{state['t']} (tensor ARRAY<FLOAT64>)").result()

        def run() -> None:
            errors = client.insert_rows_json(f"bench.ds.{state['t']}", rows)
            assert not errors, errors[:3]

        return repeat(run, mode.reps_slow, warmup=1, setup=setup)

    op("10,000 rows via `insert_rows_json`", "bq.insert10k", insert)

    big = mode.big_rows
    loaded: dict[str, bool] = {}

    def load() -> Summary:
        frame = house_frame(big)
        config = bigquery.LoadJobConfig(schema=[bigquery.SchemaField("tensor", "FLOAT64", mode="REPEATED")],
                                        write_disposition="WRITE_TRUNCATE")
        summary = Summary([timed(lambda: client.load_table_from_dataframe(frame, "bench.ds.big",
                                                                         job_config=config).result())])
        loaded["ok"] = True
        return summary

    op(f"{big:,} rows via `load_table_from_dataframe` (one run)", "bq.load1m", load)

    def count() -> Summary:
        if not loaded:
            raise AnchorError("no table: the load failed")
        return repeat(lambda: list(client.query("SELECT COUNT(*) FROM ds.big").result()), mode.reps_fast, warmup=1)

    op(f"`SELECT COUNT(*)` over the {big:,} rows", "bq.count1m", count)
