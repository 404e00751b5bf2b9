"""Real-SDK measurements, run by ``bench/cases_wire.py`` in an interpreter with ``wallaroo`` installed.

``python bench/wire_sdk.py [--reps N] [--flow-reps M]`` prints, as its last line, JSON seconds:
``raw`` (onnxruntime ``session.run`` on the 1,000 houses), ``infer`` (real SDK ``Deployment.infer``
of a 1,000-row DataFrame over the emulated wire), ``arrow`` (the same as a ``pa.Table``), ``client``
(the SDK's own client-side JSON work for that DataFrame: ``to_json``, ``json.loads`` of the reply,
``DataFrame.from_records``), ``flow``/``flow_facade`` (the tutorial replay through the real SDK and
through the facade), ``version``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--flow-reps", type=int, default=1)
    args = parser.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    from importlib import metadata

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from bench.cases_wallaroo import _raw_session
    from bench.measure import MODEL_PATH, house_array, repeat
    from emulator import Emulator

    out: dict[str, object] = {"version": metadata.version("wallaroo")}
    x = house_array(1000, dtype="float64")
    frame = pd.DataFrame({"tensor": x.tolist()})
    table = pa.table({"tensor": pa.array(x.tolist(), pa.list_(pa.float32()))})
    session = _raw_session()
    feeds = {"float_input": x.astype(np.float32)}
    with Emulator(sdk="installed") as emu:
        import wallaroo
        from wallaroo.deployment import Deployment

        from tutorial_replay.seed import ASSETS_DIR  # noqa: F401 - the model asset

        wl = wallaroo.Client()
        ws = wl.create_workspace("benchwire")
        wl.set_current_workspace(ws)
        from wallaroo.framework import Framework

        model = wl.upload_model("benchmodel", str(MODEL_PATH), framework=Framework.ONNX).configure(tensor_fields=["tensor"])
        backend = emu.wallaroo
        pipeline = backend.create_pipeline(ws.id(), "benchpipe", None, [[model.id()]])
        dep = backend.deploy(pipeline.id, engine_config={})
        emu.clock.advance(10)
        deployment = Deployment(wl, {"id": dep.id, "deploy_id": dep.deploy_id, "deployed": True,
                                     "pipeline": {"pipeline_id": pipeline.name}, "engine_config": {}})
        out["raw"] = repeat(lambda: session.run(None, feeds), args.reps * 3, warmup=3).values
        out["infer"] = repeat(lambda: deployment.infer(frame), args.reps, warmup=2).values
        out["arrow"] = repeat(lambda: deployment.infer(table), args.reps, warmup=2).values
        reply = emu.router.dispatch(
            "POST", f"{wl.api_endpoint}/v1/api/pipelines/infer/{dep.name}/{pipeline.name}"
                    "?dataset[]=*&dataset.exclude[]=metadata&dataset.separator=.",
            {"Content-Type": "application/json; format=pandas-records"}, frame.to_json(orient="records").encode()).body

        def client_side() -> None:
            frame.to_json(orient="records")
            pd.DataFrame.from_records(json.loads(reply))

        out["client"] = repeat(client_side, args.reps, warmup=2).values
    emu.close()
    try:
        from bench.measure import timed
        from tutorial_replay.replay import replay

        flows, facade = [], []
        for _ in range(args.flow_reps):
            with contextlib.redirect_stdout(io.StringIO()):
                facade.append(timed(lambda: replay(sdk="2026.1")))
                flows.append(timed(lambda: replay(sdk="installed")))
        out["flow"], out["flow_facade"] = flows, facade
    except Exception as exc:  # noqa: BLE001 - reported in the row
        out["flow_error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
