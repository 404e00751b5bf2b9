"""Child workloads for peak-memory figures: run one, then print this process's peak RSS as JSON.

``python bench/child.py WORKLOAD [ROWS]`` with WORKLOAD one of ``empty``, ``replay``,
``load-emulator``, ``load-duckdb``, ``floor``, ``first-entry``. The last line of stdout is
``{"maxrss_bytes": ..., "children_maxrss_bytes": ..., "seconds": ...}`` (``maxrss_bytes``: the
peak RSS of this process, ``VmHWM`` on Linux; ``children_maxrss_bytes``: ``ru_maxrss`` of its own
children, 0 when it started none). ``floor`` imports the libraries the tutorial needs (the import
floor of issue 12); ``first-entry`` does the same, then constructs and enters a fresh emulator, and
adds ``floor_seconds`` (the imports), ``entry_seconds`` (import of the emulator + construct +
enter) and ``exit_seconds`` (exit + close).
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time
from pathlib import Path


def _rss_bytes(kilobytes: int) -> int:
    return kilobytes if sys.platform == "darwin" else kilobytes * 1024


def _peak_rss_bytes() -> int:
    """This process's peak RSS since it was exec'd.

    On Linux ``ru_maxrss`` survives ``execve``: a child spawned by a big parent reports at least
    the parent's size. ``VmHWM`` of ``/proc/self/status`` belongs to the new address space.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return _rss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _replay() -> None:
    from tutorial_replay.replay import main

    with contextlib.redirect_stdout(io.StringIO()):
        status = main([])
    if status != 0:
        raise SystemExit(f"the replay failed with status {status}")


def _load(rows: int, emulated: bool) -> None:
    from bench.measure import house_frame

    frame = house_frame(rows)
    if not emulated:
        import duckdb

        con = duckdb.connect()
        con.execute("CREATE TABLE t AS SELECT * FROM frame")
        assert con.execute("SELECT COUNT(*) FROM t").fetchone()[0] == rows
        return
    from google.cloud import bigquery

    from emulator import Emulator

    with Emulator() as emu:
        client = emu.bigquery_client(project="bench")
        client.create_dataset("ds")
        config = bigquery.LoadJobConfig(schema=[bigquery.SchemaField("tensor", "FLOAT64", mode="REPEATED")])
        client.load_table_from_dataframe(frame, "bench.ds.t", job_config=config).result()
        assert list(client.query("SELECT COUNT(*) FROM ds.t").result())[0][0] == rows


#: The libraries the tutorial itself needs: the floor the main job is held to (issue 12).
FLOOR_IMPORTS = ("pandas", "pyarrow", "duckdb", "onnxruntime", "google.cloud.bigquery")


def _import_floor() -> None:
    import importlib

    for name in FLOOR_IMPORTS:
        importlib.import_module(name)


def _first_entry() -> dict[str, float]:
    clock = time.perf_counter  # bound before any emulator patches time.perf_counter
    start = clock()
    _import_floor()
    imported = clock()
    from emulator import Emulator

    emu = Emulator()
    emu.__enter__()
    entered = clock()
    emu.__exit__(None, None, None)
    emu.close()
    done = clock()
    return {"floor_seconds": imported - start, "entry_seconds": entered - imported, "exit_seconds": done - entered}


def main(argv: list[str]) -> int:
    workload = argv[0]
    start = time.monotonic()
    extra: dict[str, float] = {}
    if workload == "empty":
        pass
    elif workload == "replay":
        _replay()
    elif workload == "floor":
        _import_floor()
    elif workload == "first-entry":
        extra = _first_entry()
    elif workload in ("load-emulator", "load-duckdb"):
        _load(int(argv[1]), workload == "load-emulator")
    else:
        raise SystemExit(f"unknown workload {workload!r}")
    seconds = time.monotonic() - start  # measured outside any emulator
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"maxrss_bytes": _peak_rss_bytes(), "children_maxrss_bytes": _rss_bytes(kids),
                      "seconds": seconds, **extra}))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main(sys.argv[1:]))
