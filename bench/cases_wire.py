"""The Wallaroo wire (issue 9): per-request overhead in-process, and the real SDK over it.

* ``wire.request``: a trivial REST call (``GET /v1/api/config``) through an ``httpx.Client``
  answered in-process by the emulator, against the same call answered by
  ``httpx.MockTransport`` (httpx's own floor); the router's dispatch alone is in the note.
* ``wire.sdk.*`` need the real ``wallaroo`` SDK: measured in this process when it is installed
  here, otherwise in a child process of the interpreter given by ``--sdk-python`` (or
  ``WALLAROO_SDK_PYTHON``, or ``.venv-sdk/bin/python`` when it exists), running
  ``bench/wire_sdk.py``; "not available" when there is none.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.config import Mode
from bench.measure import REPO, Results, Row, Summary, guarded, repeat

CHILD = Path(__file__).resolve().parent / "wire_sdk.py"
#: Interpreter with the real SDK, set by ``bench/run.py --sdk-python``.
SDK_PYTHON: dict[str, str | None] = {"path": None}


def measure_request(results: Results, mode: Mode) -> None:
    """Per-request overhead of the in-process wire."""
    row = Row("wire.request", "#9", "a trivial REST call (`GET /v1/api/config`) over `httpx`, in-process", "< 1 ms",
              baseline_name="the same call answered by `httpx.MockTransport`")
    results.rows.append(row)

    def run() -> None:
        import httpx

        from emulator import Emulator
        from emulator.emulator import WALLAROO_EMULATOR_URL

        url = f"{WALLAROO_EMULATOR_URL}/v1/api/config"
        reps = mode.reps_fast * 10
        floor = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"default_arch": "x86"})))
        baseline = repeat(lambda: floor.get(url), reps, warmup=5)
        with Emulator(sdk="2026.1") as emu:
            client = httpx.Client()
            measured = repeat(lambda: client.get(url), reps, warmup=5)
            dispatch = repeat(lambda: emu.router.dispatch("GET", url, {}, b""), reps, warmup=5)
        row.measured, row.baseline = measured, baseline
        row.passed = measured.median < 0.001
        row.note = (f"router dispatch alone (parse, route, handler, JSON): {dispatch.median * 1e6:.0f} µs; "
                    f"emulator overhead over httpx's floor: {(measured.median - baseline.median) * 1e6:.0f} µs")

    guarded(results, [row], "wire request overhead", run)


def _sdk_python() -> str | None:
    """An interpreter with the real SDK: this one, ``--sdk-python``, ``$WALLAROO_SDK_PYTHON`` or ``.venv-sdk``."""
    from importlib import metadata

    try:
        metadata.version("wallaroo")
        return sys.executable
    except metadata.PackageNotFoundError:
        pass
    for candidate in (SDK_PYTHON["path"], os.environ.get("WALLAROO_SDK_PYTHON"), str(REPO / ".venv-sdk" / "bin" / "python")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def measure_real_sdk(results: Results, mode: Mode) -> None:
    """The real SDK over the wire: 1,000-row infer (DataFrame and Arrow) and the tutorial flow."""
    infer = Row("wire.sdk.infer.1k", "#9", "real SDK `infer` of 1,000 rows (DataFrame → pandas-records JSON)",
                "≤ 3 × raw + 5 ms", baseline_name="onnxruntime session.run")
    arrow = Row("wire.sdk.infer.1k.arrow", "#9", "real SDK `infer` of 1,000 rows (pa.Table → Arrow IPC)",
                "≤ 3 × raw + 5 ms", baseline_name="onnxruntime session.run")
    client_side = Row("wire.sdk.infer.1k.client", "#9",
                      "… of which the SDK's own work outside the wire (`to_json`, `json.loads`, `from_records`)",
                      "— (reported)", baseline_name="")
    flow = Row("wire.sdk.flow", "#9", "tutorial flow end to end through the real SDK (`replay(sdk='installed')`)",
               "— (reported)", baseline_name="the same flow through the facade (`replay(sdk='2026.1')`)")
    rows = [infer, arrow, client_side, flow]
    results.rows.extend(rows)
    python = _sdk_python()
    if python is None:
        for row in rows:
            row.status = "not available"
            row.note = "needs the real wallaroo SDK: pip install 'wallaroo==2026.1.3' or pass --sdk-python"
        return

    def run() -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        args = [python, str(CHILD), "--reps", str(mode.reps_fast), "--flow-reps", str(mode.reps_slow if not mode.quick else 1)]
        done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}")
        data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        raw = Summary(data["raw"])
        infer.measured, infer.baseline = Summary(data["infer"]), raw
        infer.passed = infer.measured.median <= 3 * raw.median + 0.005
        arrow.measured, arrow.baseline = Summary(data["arrow"]), raw
        arrow.passed = arrow.measured.median <= 3 * raw.median + 0.005
        client_side.measured = Summary(data["client"])
        infer.note = (f"SDK {data['version']}; allowed {1e3 * (3 * raw.median + 0.005):.2f} ms; the SDK's own "
                      f"client-side JSON work (`to_json`, `json.loads` of the reply, `from_records`) alone takes "
                      f"{1e3 * client_side.measured.median:.1f} ms, so the JSON path cannot hold the target "
                      "whatever the wire does; the Arrow path holds it (next row)")
        if data.get("flow"):
            flow.measured, flow.baseline = Summary(data["flow"]), Summary(data["flow_facade"])
            flow.note = "in-process, one fresh emulator per run; needs /v1/graphql"
        else:
            flow.status = "error"
            flow.error = data.get("flow_error") or "the flow did not run"

    guarded(results, rows, "real SDK over the wire", run)
