"""Helpers shared by the wallaroo facade tests: test ONNX models, uploads, house rows.

Kept out of conftest.py so test modules import them by a unique module name.
"""


from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PROFILES = ("2023.2", "2026.1")
HOUSE_WEIGHTS = (np.random.RandomState(7).rand(18, 1) * 1000).astype(np.float32)




def _save(model: onnx.ModelProto, path: Path) -> Path:
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path



def house_price_model() -> onnx.ModelProto:
    """Like rf_model.onnx: ``float_input`` float32 [N, 18] → ``variable`` float32 [N, 1]."""
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["float_input", "W"], ["mm"]), helper.make_node("Add", ["mm", "b"], ["variable"])],
        "house_price",
        [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, 18])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        [numpy_helper.from_array(HOUSE_WEIGHTS, "W"), numpy_helper.from_array(np.array([12.5], np.float32), "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])



def multi_io_model() -> onnx.ModelProto:
    """``input_1`` [N, 3] and ``input_2`` [N, 3] → ``output_1`` = a + b [N, 3], ``output_2`` = sum(a * b) [N, 1]."""
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["input_1", "input_2"], ["output_1"]),
            helper.make_node("Mul", ["input_1", "input_2"], ["prod"]),
            helper.make_node("ReduceSum", ["prod", "axes"], ["output_2"], keepdims=1),
        ],
        "multi_io",
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["N", 3]),
         helper.make_tensor_value_info("input_2", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("output_1", TensorProto.FLOAT, ["N", 3]),
         helper.make_tensor_value_info("output_2", TensorProto.FLOAT, ["N", 1])],
        [numpy_helper.from_array(np.array([1], np.int64), "axes")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])



def scale_model(in_name: str, out_name: str, width: int, factor: float) -> onnx.ModelProto:
    """``out = in * factor`` on float32 [N, width] (chained in multi-step pipelines)."""
    graph = helper.make_graph(
        [helper.make_node("Mul", [in_name, "k"], [out_name])], "scale",
        [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, [None, width])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [None, width])],
        [numpy_helper.from_array(np.array([factor], np.float32), "k")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])



def upload(wl: Any, name: str, path: Path, **configure: Any) -> Any:
    from wallaroo.framework import Framework

    return wl.upload_model(name, str(path), framework=Framework.ONNX).configure(**configure)



def house_rows(n: int, seed: int = 0) -> np.ndarray:
    """House-like feature rows (decimal values with few digits, like xtest-1k)."""
    rng = np.random.RandomState(seed)
    return (rng.rand(n, 18) * 100).round(3)



def reference_predictions(path: Path, x: np.ndarray, input_name: str = "float_input") -> list[np.ndarray]:
    """onnxruntime run directly on the same float32 array."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {input_name: x.astype(np.float32)})



def label_model() -> onnx.ModelProto:
    """``float_input`` [N, 18] → ``label`` string [N] (LabelEncoder on the rounded first feature) and
    ``total`` float32 [N] (1-D output)."""
    graph = helper.make_graph(
        [
            helper.make_node("Slice", ["float_input", "start", "end", "axis"], ["first"]),
            helper.make_node("Cast", ["first"], ["first_int"], to=TensorProto.INT64),
            helper.make_node("Reshape", ["first_int", "flat_shape"], ["flat"]),
            helper.make_node("LabelEncoder", ["flat"], ["label"], domain="ai.onnx.ml",
                             keys_int64s=[0, 1, 2], values_strings=["low", "mid", "high"], default_string="other"),
            helper.make_node("ReduceSum", ["float_input", "axes"], ["total"], keepdims=0),
        ],
        "labels",
        [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, 18])],
        [helper.make_tensor_value_info("label", TensorProto.STRING, [None]),
         helper.make_tensor_value_info("total", TensorProto.FLOAT, [None])],
        [numpy_helper.from_array(np.array([0], np.int64), "start"), numpy_helper.from_array(np.array([1], np.int64), "end"),
         numpy_helper.from_array(np.array([1], np.int64), "axis"), numpy_helper.from_array(np.array([-1], np.int64), "flat_shape"),
         numpy_helper.from_array(np.array([1], np.int64), "axes")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 2)])



def int_model() -> onnx.ModelProto:
    """``codes`` int64 [N, 2] → ``score`` float32 [N, 1] = sum of the codes."""
    graph = helper.make_graph(
        [helper.make_node("Cast", ["codes"], ["as_float"], to=TensorProto.FLOAT),
         helper.make_node("ReduceSum", ["as_float", "axes"], ["score"], keepdims=1)],
        "ints",
        [helper.make_tensor_value_info("codes", TensorProto.INT64, [None, 2])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [None, 1])],
        [numpy_helper.from_array(np.array([1], np.int64), "axes")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])



def batch_one_model() -> onnx.ModelProto:
    """The house-price model exported with a fixed batch of one: ``float_input`` [1, 18] → ``variable`` [1, 1]."""
    model = house_price_model()
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    model.graph.output[0].type.tensor_type.shape.dim[0].dim_value = 1
    return model

