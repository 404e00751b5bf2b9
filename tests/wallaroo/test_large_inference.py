"""Large inference calls work and match onnxruntime (a random-forest model like the tutorial's).

The time budgets of ``pipeline.infer`` (1,000 rows within 1.5x of ``session.run`` + 2 ms; 100,000
rows within 2x) are measured by the benchmark script (``bench/run.py``), not by tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, helper
from wallaroo_testkit import house_rows, upload


def forest_model(n_trees: int = 40, depth: int = 8, n_features: int = 18, seed: int = 0) -> onnx.ModelProto:
    rng = np.random.RandomState(seed)
    attrs: dict[str, list[Any]] = {k: [] for k in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes", "nodes_truenodeids",
        "nodes_falsenodeids", "target_treeids", "target_nodeids", "target_ids", "target_weights")}
    internal = 2 ** depth - 1
    for tree in range(n_trees):
        for node in range(2 ** (depth + 1) - 1):
            attrs["nodes_treeids"].append(tree)
            attrs["nodes_nodeids"].append(node)
            if node < internal:
                attrs["nodes_featureids"].append(int(rng.randint(n_features)))
                attrs["nodes_values"].append(float(rng.rand() * 100))
                attrs["nodes_modes"].append("BRANCH_LEQ")
                attrs["nodes_truenodeids"].append(2 * node + 1)
                attrs["nodes_falsenodeids"].append(2 * node + 2)
            else:
                attrs["nodes_featureids"].append(0)
                attrs["nodes_values"].append(0.0)
                attrs["nodes_modes"].append("LEAF")
                attrs["nodes_truenodeids"].append(0)
                attrs["nodes_falsenodeids"].append(0)
                for key, value in (("target_treeids", tree), ("target_nodeids", node), ("target_ids", 0),
                                   ("target_weights", float(rng.rand() * 1e6))):
                    attrs[key].append(value)
    node = helper.make_node("TreeEnsembleRegressor", ["float_input"], ["variable"], domain="ai.onnx.ml",
                            n_targets=1, aggregate_function="AVERAGE", post_transform="NONE", **attrs)
    graph = helper.make_graph(
        [node], "forest", [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 8
    return model


@pytest.fixture
def forest_path(tmp_path: Path) -> Path:
    path = tmp_path / "forest_model.onnx"
    onnx.save(forest_model(), str(path))
    return path


@pytest.mark.parametrize("profile", ["2023.2", "2026.1"], indirect=True)
def test_hundred_thousand_rows_in_one_call(wl: Any, workspace: Any, forest_path: Path) -> None:
    """A 100,000-row frame goes through in one call with onnxruntime's values (timing: bench/run.py)."""
    import onnxruntime

    model = upload(wl, "forest-model", forest_path, tensor_fields=["tensor"])
    pipeline = wl.build_pipeline("big-forest").add_model_step(model).deploy()
    x = house_rows(100_000)
    result = pipeline.infer(pd.DataFrame({"tensor": x.tolist()}))
    session = onnxruntime.InferenceSession(str(forest_path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"float_input": x.astype(np.float32)})[0]
    assert len(result) == 100_000
    assert result["time"].nunique() == 1
    got = np.asarray(result["out.variable"].tolist(), dtype=np.float32)
    np.testing.assert_array_equal(got, expected)
