"""Bad inference input raises the SDK's exception type with a message naming the problem; nothing is logged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wallaroo_testkit import house_rows

from emulator.emulator import Emulator


def inference_error(emu: Emulator) -> type[Exception]:
    if emu.sdk == "2023.2":
        from wallaroo.object import InferenceError
    else:
        from wallaroo.exceptions import InferenceError
    return InferenceError


def expect_engine_error(emu: Emulator, pipeline: Any, data: Any, fragment: str) -> None:
    with pytest.raises(inference_error(emu)) as info:
        pipeline.infer(data)
    message = str(info.value)
    if emu.sdk == "2023.2":
        assert message.startswith("Inference failed: \n\tInvalidInput: ")
    else:
        assert message.startswith("Inference failed: [400] ")
        assert message.endswith("(source: engine, status: Error)")
        assert info.value.code == 400
    assert fragment in message
    assert pipeline.logs().empty


@pytest.mark.parametrize(("frame", "fragment"), [
    (pd.DataFrame({"tensor": house_rows(2)[:, :17].tolist()}), "expects shape [N, 18] but column 'tensor' gives shape [2, 17]"),
    (pd.DataFrame({"tensor": [[1.0] * 18, [1.0] * 17]}), "rows of different lengths"),
    (pd.DataFrame({"tensor": [["a"] * 18, ["b"] * 18]}), "cannot be converted to tensor 'float_input'"),
    (pd.DataFrame({"other": house_rows(2).tolist()}), "missing input column(s) ['tensor']"),
    (pd.DataFrame({"tensor": []}), "no rows"),
    (pd.DataFrame({"tensor": ["abc", "def"]}), "tensor 'float_input'"),
    (pd.DataFrame({"tensor": [[[1.0] * 18], [[1.0] * 17]]}), "tensor 'float_input'"),
])
def test_bad_frames(deployed: Any, emu: Emulator, frame: pd.DataFrame, fragment: str) -> None:
    expect_engine_error(emu, deployed, frame, fragment)


def test_bad_arrow_tables(deployed: Any, emu: Emulator) -> None:
    expect_engine_error(emu, deployed, pa.table({"tensor": pa.array([[1.0] * 17], pa.list_(pa.float64()))}),
                        "gives shape [1, 17]")
    expect_engine_error(emu, deployed, pa.table({"tensor": pa.array([[1.0] * 18, None], pa.list_(pa.float64()))}),
                        "null rows")
    expect_engine_error(emu, deployed, pa.table({"tensor": pa.array([["x"] * 18], pa.list_(pa.string()))}),
                        "string values")
    expect_engine_error(emu, deployed, pa.table({"tensor": pa.array([], pa.list_(pa.float32()))}), "no rows")


def test_missing_input_of_a_multi_input_model(wl: Any, workspace: Any, multi_io_path: Any, emu: Emulator) -> None:
    from wallaroo_testkit import upload

    pipeline = wl.build_pipeline("m").add_model_step(upload(wl, "m", multi_io_path)).deploy()
    expect_engine_error(emu, pipeline, pd.DataFrame({"input_1": [[1.0, 2.0, 3.0]], "x": [[1.0, 2.0, 3.0]],
                                                     "y": [[1.0, 1.0, 1.0]]}), "missing input column(s) ['input_2']")


def test_client_side_type_errors(deployed: Any) -> None:
    with pytest.raises(TypeError, match="tensor is of type <class 'str'> but 'pandas.DataFrame', 'pyarrow.Table', "
                                        "dict or list is required"):
        deployed.infer("tensor")
    with pytest.raises(TypeError, match="timeout"):
        deployed.infer(pd.DataFrame({"tensor": house_rows(1).tolist()}), timeout="5")


def test_undeployed_pipeline(deployed: Any, wl: Any, house_model: Any) -> None:
    frame = pd.DataFrame({"tensor": house_rows(1).tolist()})
    deployed.undeploy()
    with pytest.raises(RuntimeError, match="is not deployed"):
        deployed.infer(frame)
    never = wl.build_pipeline("never").add_model_step(house_model)
    with pytest.raises(RuntimeError, match="is not deployed"):
        never.infer(frame)
    assert deployed.logs().empty


def test_inference_error_location_per_profile(emu: Emulator, wallaroo: Any) -> None:
    import wallaroo.exceptions as exceptions

    if emu.sdk == "2023.2":
        assert wallaroo.object.InferenceError is exceptions.InferenceError
    else:
        with pytest.raises(ImportError):
            from wallaroo.object import InferenceError  # noqa: F401
        assert issubclass(exceptions.InferenceError, exceptions.WallarooAPIError)


def test_inference_while_starting_retries_in_virtual_time(wl: Any, workspace: Any, house_model: Any,
                                                         emu: Emulator) -> None:
    if emu.sdk == "2023.2":
        pytest.skip("deploy(wait_for_status=False) is newest-only")
    pipeline = wl.build_pipeline("p").add_model_step(house_model)
    pipeline.deploy(wait_for_status=False)
    result = pipeline.infer(pd.DataFrame({"tensor": house_rows(1).tolist()}))  # 503s retried with backoff
    assert len(result) == 1
    assert pipeline.status()["status"] == "Running"


def test_failed_step_leaves_no_partial_state(deployed: Any, emu: Emulator) -> None:
    good = pd.DataFrame({"tensor": house_rows(2).tolist()})
    deployed.infer(good)
    with pytest.raises(inference_error(emu)):
        deployed.infer(pd.DataFrame({"tensor": np.ones((2, 5)).tolist()}))
    assert len(deployed.logs()) == 2


def test_2023_reads_row_label_zero(deployed: Any, emu: Emulator) -> None:
    frame = pd.DataFrame({"tensor": house_rows(4).tolist()}).iloc[2:]
    if emu.sdk == "2023.2":
        with pytest.raises(KeyError, match="row label 0"):
            deployed.infer(frame)
        with pytest.raises(KeyError):
            deployed.infer(pd.DataFrame({"tensor": []}))
    else:
        assert len(deployed.infer(frame)) == 2
    assert len(deployed.infer(frame.reset_index(drop=True))) == 2


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(1, 5), width=st.integers(1, 40).filter(lambda w: w != 18))
def test_property_wrong_width_always_fails_cleanly(deployed: Any, emu: Emulator, rows: int, width: int) -> None:
    frame = pd.DataFrame({"tensor": np.ones((rows, width)).tolist()})
    with pytest.raises(inference_error(emu), match=rf"expects shape \[N, 18\] but column 'tensor' gives shape \[{rows}, {width}\]"):
        deployed.infer(frame)
    assert deployed.logs().empty
