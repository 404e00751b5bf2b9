"""Server mode (``python -m emulator serve``): a query through the real client over HTTP, and start-up.

* ``server.select1``: ``SELECT 1`` through the real google-cloud-bigquery client pointed at a
  server running in its own process (``client_options={"api_endpoint": url}``); the client makes
  three requests (``jobs.insert``, ``getQueryResults`` to wait, ``getQueryResults`` for the rows).
  Baseline: one trivial round trip to the same server (``GET /_emulator/clock``).
* ``server.start``: spawning ``python -m emulator serve`` to its first answered request (the
  client polls for the ``--env-file``, then asks the clock); baseline: spawning a bare
  interpreter to its exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.config import Mode
from bench.measure import REPO, Results, Row, Summary, guarded, repeat
from emulator.clock import real_monotonic, real_sleep


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an install runs: our modules compiled once, cached
    return env


def _start(folder: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    """A server process, its URL and the real seconds from spawn to its first answered request."""
    import requests

    env_file = folder / "server.env"
    env_file.unlink(missing_ok=True)
    started = real_monotonic()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "serve", "--env-file", str(env_file)], cwd=folder,
                               env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while not env_file.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
        if real_monotonic() - started > 60:
            process.kill()
            raise RuntimeError("the server did not start in 60 s")
        real_sleep(0.002)
    url = next(line.split("=", 1)[1] for line in env_file.read_text().splitlines()
               if line.startswith("export EMULATOR_URL="))
    requests.get(f"{url}/_emulator/clock", timeout=30).raise_for_status()
    return process, url, real_monotonic() - started


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def measure_select1(results: Results, mode: Mode) -> None:
    row = Row("server.select1", "server", "`SELECT 1` through the real client over the 127.0.0.1 server "
              "(server in its own process)", "< 5 ms", baseline_name="one trivial HTTP round trip to the server")
    results.rows.append(row)

    def run() -> None:
        import requests
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        with tempfile.TemporaryDirectory(prefix="bench-server-") as folder:
            process, url, _ = _start(Path(folder))
            try:
                client = bigquery.Client(project="bench", credentials=AnonymousCredentials(),
                                         client_options=ClientOptions(api_endpoint=url))
                session = requests.Session()
                reps = mode.reps_fast * 2
                row.baseline = repeat(lambda: session.get(f"{url}/_emulator/clock", timeout=30), reps, warmup=3)
                row.measured = repeat(lambda: list(client.query("SELECT 1").result()), reps, warmup=3)
                waited = repeat(lambda: list(client.query_and_wait("SELECT 1")), reps, warmup=3)
            finally:
                _stop(process)
        row.passed = row.measured.median < 0.005
        row.note = (f"three requests per query on one kept-alive connection (the client's pooled `requests` "
                    f"session; HTTP/1.1 keep-alive of the standard library's threaded HTTP server); "
                    f"`query_and_wait` (one `jobs.query` request): {waited.median * 1e3:.2f} ms; the server's own "
                    "work per request is ~0.1 ms, the rest is the client (google-cloud-bigquery, `requests`) "
                    "and HTTP on loopback")

    guarded(results, [row], "server SELECT 1", run)


def measure_start(results: Results, mode: Mode) -> None:
    row = Row("server.start", "server", "`python -m emulator serve` spawn to its first answered request", "< 1 s",
              baseline_name="spawn of a bare interpreter to its exit")
    results.rows.append(row)

    def run() -> None:
        times: list[float] = []
        floor: list[float] = []
        with tempfile.TemporaryDirectory(prefix="bench-server-") as folder:
            for _ in range(max(2, mode.reps_slow)):
                start = real_monotonic()
                subprocess.run([sys.executable, "-c", "pass"], check=True, env=_env())
                floor.append(real_monotonic() - start)
                process, _, took = _start(Path(folder))
                times.append(took)
                _stop(process)
        row.measured, row.baseline = Summary(times), Summary(floor)
        row.passed = row.measured.median < 1.0
        row.note = ("imports, a fresh emulator, entering it (time patches, the facade, application-default "
                    "credentials), the HTTP server bound; requests/responses are imported only when first used")

    guarded(results, [row], "server start", run)


