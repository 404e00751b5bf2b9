"""Inference: results equal onnxruntime's, result shapes of reference §4, multi-IO, multi-step, Arrow, files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from wallaroo_testkit import house_rows, reference_predictions, upload

from emulator.emulator import Emulator


def anomaly(emu: Emulator) -> str:
    return "check_failures" if emu.sdk == "2023.2" else "anomaly.count"


def test_dataframe_result_shape_and_values(deployed: Any, emu: Emulator, house_model_path: Path) -> None:
    x = house_rows(7)
    frame = pd.DataFrame({"tensor": x.tolist()})
    emu.clock.advance(1.234)
    result = deployed.infer(frame)
    assert list(result.columns) == ["time", "in.tensor", "out.variable", anomaly(emu)]
    assert str(result["time"].dtype) == "datetime64[ns]"
    assert result["in.tensor"].dtype == object and result["out.variable"].dtype == object
    assert result[anomaly(emu)].dtype == np.int64 and (result[anomaly(emu)] == 0).all()
    assert result["time"].nunique() == 1
    assert result["time"].iloc[0] == pd.Timestamp(emu.clock.epoch_ms(), unit="ms")
    assert isinstance(result["out.variable"].iloc[0], list) and isinstance(result["in.tensor"].iloc[0], list)
    assert result["in.tensor"].tolist() == x.tolist()
    expected = reference_predictions(house_model_path, x)[0]
    got = np.array(result["out.variable"].tolist(), dtype=np.float32)
    np.testing.assert_array_equal(got, expected)
    assert list(result.index) == list(range(7))


def test_output_values_print_like_the_engine_json(deployed: Any) -> None:
    result = deployed.infer(pd.DataFrame({"tensor": house_rows(3).tolist()}))
    for row in result["out.variable"]:
        value = row[0]
        assert repr(value) == str(np.float32(value))  # shortest float32 repr, e.g. 340764.53


def test_arrow_in_arrow_out(deployed: Any, emu: Emulator, house_model_path: Path) -> None:
    x = house_rows(5)
    table = pa.table({"tensor": pa.array(x.tolist(), type=pa.list_(pa.float32()))})
    result = deployed.infer(table)
    assert isinstance(result, pa.Table)
    expected_schema = pa.schema([
        pa.field("time", pa.timestamp("ms")),
        pa.field("in.tensor", pa.list_(pa.float32())),
        pa.field("out.variable", pa.list_(pa.field("inner", pa.float32(), nullable=False)), nullable=False),
        pa.field(anomaly(emu), pa.int8() if emu.sdk == "2023.2" else pa.uint32(), nullable=False),
    ])
    assert result.schema.equals(expected_schema)
    out = np.array(result.column("out.variable").to_pylist(), dtype=np.float32)
    np.testing.assert_array_equal(out, reference_predictions(house_model_path, x)[0])
    # list<double> input (as pandas produces) feeds the float32 model too
    result = deployed.infer(pa.Table.from_pandas(pd.DataFrame({"tensor": x.tolist()})))
    np.testing.assert_array_equal(np.array(result.column("out.variable").to_pylist(), dtype=np.float32), out)


def test_ndarray_cells_and_numeric_columns(wl: Any, workspace: Any, house_model_path: Path) -> None:
    model = upload(wl, "nocfg", house_model_path)  # no tensor_fields
    pipeline = wl.build_pipeline("p2").add_model_step(model).deploy()
    x = house_rows(4)
    result = pipeline.infer(pd.DataFrame({"tensor": list(x)}))  # ndarray cells
    assert isinstance(result["in.tensor"].iloc[0], list)
    np.testing.assert_array_equal(np.array(result["out.variable"].tolist(), np.float32),
                                  reference_predictions(house_model_path, x)[0])
    # columns named after the model input map by name
    result = pipeline.infer(pd.DataFrame({"float_input": x.tolist()}))
    assert "in.float_input" in result.columns


def test_multi_input_multi_output(wl: Any, workspace: Any, multi_io_path: Path, emu: Emulator) -> None:
    model = upload(wl, "multi", multi_io_path)
    pipeline = wl.build_pipeline("multi").add_model_step(model).deploy()
    rng = np.random.RandomState(3)
    a = rng.rand(6, 3).round(2)
    b = rng.rand(6, 3).round(2)
    result = pipeline.infer(pd.DataFrame({"input_1": a.tolist(), "input_2": b.tolist()}))
    assert list(result.columns) == ["time", "in.input_1", "in.input_2", "out.output_1", "out.output_2", anomaly(emu)]
    import onnxruntime

    session = onnxruntime.InferenceSession(str(multi_io_path), providers=["CPUExecutionProvider"])
    out1, out2 = session.run(None, {"input_1": a.astype(np.float32), "input_2": b.astype(np.float32)})
    np.testing.assert_array_equal(np.array(result["out.output_1"].tolist(), np.float32), out1)
    np.testing.assert_array_equal(np.array(result["out.output_2"].tolist(), np.float32), out2)
    table = pipeline.infer(pa.table({"input_1": a.tolist(), "input_2": b.tolist()}))
    assert table.column_names == ["time", "in.input_1", "in.input_2", "out.output_1", "out.output_2", anomaly(emu)]


def test_tensor_fields_map_columns_to_inputs_in_order(wl: Any, workspace: Any, multi_io_path: Path) -> None:
    model = upload(wl, "multi", multi_io_path, tensor_fields=["first", "second"])
    pipeline = wl.build_pipeline("multi").add_model_step(model).deploy()
    a = np.ones((2, 3))
    b = np.full((2, 3), 2.0)
    result = pipeline.infer(pd.DataFrame({"second": b.tolist(), "first": a.tolist()}))
    assert list(result.columns)[1:3] == ["in.first", "in.second"]
    assert result["out.output_2"].tolist() == [[6.0], [6.0]]


def test_multi_step_pipeline_runs_in_sequence(wl: Any, workspace: Any, model_dir: Path) -> None:
    double = upload(wl, "double", model_dir / "double.onnx", tensor_fields=["tensor"])
    half = upload(wl, "half", model_dir / "half.onnx")
    pipeline = wl.build_pipeline("chain").add_model_step(double).add_model_step(half).deploy()
    x = house_rows(3)
    result = pipeline.infer(pd.DataFrame({"tensor": x.tolist()}))
    assert list(result.columns)[1:3] == ["in.tensor", "out.variable"]
    np.testing.assert_array_equal(np.array(result["out.variable"].tolist(), np.float32), x.astype(np.float32))


def test_dict_and_list_inputs_return_json_records(deployed: Any, emu: Emulator) -> None:
    x = house_rows(2)
    records = deployed.infer([{"tensor": row} for row in x.tolist()])
    assert isinstance(records, list) and len(records) == 2
    assert records[0]["time"] == emu.clock.epoch_ms()
    assert records[0]["in"]["tensor"] == x[0].tolist()
    assert set(records[0]["out"]) == {"variable"}
    if emu.sdk == "2023.2":
        assert records[0]["check_failures"] == []
    else:
        assert records[0]["anomaly"] == {"count": 0}


def test_infer_from_file(deployed: Any, tmp_path: Path, house_model_path: Path) -> None:
    x = house_rows(10)
    path = tmp_path / "xtest-10.df.json"
    path.write_text(pd.DataFrame({"tensor": x.tolist()}).to_json(orient="records"))
    result = deployed.infer_from_file(str(path))
    assert isinstance(result, pd.DataFrame) and len(result) == 10
    arrow_path = tmp_path / "xtest-10.arrow"
    table = pa.table({"tensor": pa.array(x.tolist(), type=pa.list_(pa.float32()))})
    with pa.OSFile(str(arrow_path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    result = deployed.infer_from_file(arrow_path)
    assert isinstance(result, pa.Table) and result.num_rows == 10
    np.testing.assert_array_equal(np.array(result.column("out.variable").to_pylist(), np.float32),
                                  reference_predictions(house_model_path, x)[0])


def test_session_is_cached_per_model_version(deployed: Any, emu: Emulator) -> None:
    backend = emu.wallaroo
    version = backend.model_versions_by_name("housemodel")[0]
    runtime = backend.runtime_for(version)
    deployed.infer(pd.DataFrame({"tensor": house_rows(2).tolist()}))
    assert backend.runtime_for(version) is runtime


def test_results_are_deterministic(profile: str, house_model_path: Path) -> None:
    outputs = []
    for _ in range(2):
        with Emulator(sdk=profile, seed=1):
            import wallaroo

            wl = wallaroo.Client(auth_type="test_auth")
            wl.set_current_workspace(wl.create_workspace("w"))
            model = upload(wl, "m", house_model_path, tensor_fields=["tensor"])
            pipeline = wl.build_pipeline("p").add_model_step(model).deploy()
            outputs.append(pipeline.infer(pd.DataFrame({"tensor": house_rows(3).tolist()})).to_json(date_format="iso"))
    assert outputs[0] == outputs[1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=hnp.arrays(np.float32, st.tuples(st.integers(1, 20), st.just(18)),
                    elements=st.floats(-1e6, 1e6, width=32, allow_nan=False)))
def test_property_equals_onnxruntime(deployed: Any, house_model_path: Path, x: np.ndarray) -> None:
    result = deployed.infer(pd.DataFrame({"tensor": x.astype(np.float64).tolist()}))
    expected = reference_predictions(house_model_path, x)[0]
    got = np.array(result["out.variable"].tolist(), dtype=np.float32)
    np.testing.assert_array_equal(got, expected)


def test_python_callable_extension(wl: Any, workspace: Any, model_dir: Path, emu: Emulator) -> None:
    from wallaroo.framework import Framework

    from emulator.wallaroo.errors import NotEmulatedError

    model = wl.upload_model("skmodel", str(model_dir / "model.pkl"), framework=Framework.SKLEARN)
    model.configure(tensor_fields=["tensor"])
    pipeline = wl.build_pipeline("sk").add_model_step(model).deploy()
    frame = pd.DataFrame({"tensor": house_rows(3).tolist()})
    with pytest.raises(NotEmulatedError, match="framework 'sklearn'.*register_model_callable"):
        pipeline.infer(frame)
    assert pipeline.logs().empty
    emu.wallaroo.register_model_callable("skmodel", lambda feeds: {"predictions": feeds["tensor"].sum(axis=1)})
    result = pipeline.infer(frame)
    assert list(result.columns)[2] == "out.predictions"
    np.testing.assert_allclose([r[0] for r in result["out.predictions"]], house_rows(3).sum(axis=1))


def test_json_floats_matches_numpy_shortest_repr() -> None:
    from emulator.wallaroo.inference import json_floats

    rng = np.random.RandomState(0)
    values = (rng.rand(5000) * 10.0 ** rng.randint(-8, 9, 5000)).astype(np.float32)
    values = np.concatenate([values, np.array([0.0, -1.5, 340764.53, 718013.75, np.inf], np.float32)])
    got = json_floats(values)
    assert got.tolist()[:-1] == [float(str(v)) for v in values[:-1]]
    assert (got.astype(np.float32) == values).all()


def test_pipeline_logs_file_json_roundtrip(deployed: Any, tmp_path: Path) -> None:
    rows = [{"tensor": r} for r in house_rows(2).tolist()]
    path = tmp_path / "x.json"
    path.write_text(json.dumps(rows))
    assert len(deployed.infer_from_file(path)) == 2


def test_integer_cells_echo_as_floats(deployed: Any) -> None:
    result = deployed.infer(pd.DataFrame({"tensor": [[1] * 18, [2] * 18]}))
    assert result["in.tensor"].iloc[0] == [1.0] * 18
    assert all(isinstance(v, float) for v in result["in.tensor"].iloc[1])


def test_dataset_parameters(deployed: Any, emu: Emulator, house_model: Any) -> None:
    frame = pd.DataFrame({"tensor": house_rows(2).tolist()})
    result = deployed.infer(frame, dataset=["*", "metadata"])
    assert list(result.columns) == ["time", "in.tensor", "out.variable", anomaly(emu), "metadata.dropped",
                                    "metadata.elapsed", "metadata.last_model", "metadata.partition",
                                    "metadata.pipeline_version"]
    assert json.loads(result["metadata.last_model"].iloc[0]) == {"model_name": "housemodel",
                                                                 "model_sha": house_model.sha()}
    assert result["metadata.pipeline_version"].iloc[0] == deployed.versions()[-1].name()
    only = deployed.infer(frame, dataset=["time", "out"])
    assert list(only.columns) == ["time", "out.variable"]
    table = deployed.infer(pa.Table.from_pandas(frame), dataset=["out", "metadata"])
    assert table.column_names[0] == "out.variable" and "metadata.pipeline_version" in table.column_names
    assert "in_tensor" in deployed.infer(frame, dataset_separator="_").columns


def test_string_and_one_dimensional_outputs(wl: Any, workspace: Any, model_dir: Path, emu: Emulator) -> None:
    model = upload(wl, "labels", model_dir / "labels.onnx", tensor_fields=["tensor"])
    pipeline = wl.build_pipeline("labels").add_model_step(model).deploy()
    x = np.zeros((3, 18))
    x[:, 0] = [0, 2, 7]
    x[:, 1] = 1.5
    result = pipeline.infer(pd.DataFrame({"tensor": x.tolist()}))
    assert result["out.label"].tolist() == [["low"], ["high"], ["other"]]
    assert result["out.total"].tolist() == [[1.5], [3.5], [8.5]]
    table = pipeline.infer(pa.table({"tensor": x.tolist()}))
    assert table.column("out.label").to_pylist() == [["low"], ["high"], ["other"]]
    pipeline.infer(pd.DataFrame({"tensor": x[:1].tolist()}))
    logs = pipeline.logs()
    assert logs["out.label"].tolist() == [["low"], ["high"], ["other"]] * 2 + [["low"]]
    assert pipeline.logs(arrow=True).num_rows == 7


def test_arrow_backed_dataframe_columns(deployed: Any, house_model_path: Path) -> None:
    x = house_rows(4)
    frame = pa.table({"tensor": x.tolist()}).to_pandas(types_mapper=pd.ArrowDtype)
    result = deployed.infer(frame)
    assert isinstance(result, pd.DataFrame)
    assert result["in.tensor"].tolist() == x.tolist()
    np.testing.assert_array_equal(np.array(result["out.variable"].tolist(), np.float32),
                                  reference_predictions(house_model_path, x)[0])


def test_integer_inputs(wl: Any, workspace: Any, model_dir: Path, emu: Emulator) -> None:
    pipeline = wl.build_pipeline("ints").add_model_step(upload(wl, "ints", model_dir / "ints.onnx")).deploy()
    result = pipeline.infer(pd.DataFrame({"codes": [[1, 2], [3, 4]]}))
    assert result["out.score"].tolist() == [[3.0], [7.0]]
    assert pipeline.infer(pd.DataFrame({"codes": [[1.0, 2.0]]}))["out.score"].tolist() == [[3.0]]
    from test_bad_inputs import inference_error

    with pytest.raises(inference_error(emu), match="expects int64"):
        pipeline.infer(pd.DataFrame({"codes": [[1.5, 2.0]]}))


def test_fixed_batch_of_one_models_run_row_by_row(wl: Any, workspace: Any, model_dir: Path,
                                                  house_model_path: Path) -> None:
    model = upload(wl, "one", model_dir / "batch_one.onnx", tensor_fields=["tensor"])
    pipeline = wl.build_pipeline("one").add_model_step(model).deploy()
    x = house_rows(5)
    result = pipeline.infer(pd.DataFrame({"tensor": x.tolist()}))
    np.testing.assert_array_equal(np.array(result["out.variable"].tolist(), np.float32),
                                  reference_predictions(house_model_path, x)[0])


def test_2023_ravels_multidimensional_ndarray_cells_in_place(deployed: Any, emu: Emulator,
                                                             house_model_path: Path) -> None:
    x = house_rows(3)
    frame = pd.DataFrame({"tensor": [row.reshape(3, 6) for row in x]})
    result = deployed.infer(frame)
    np.testing.assert_array_equal(np.array(result["out.variable"].tolist(), np.float32),
                                  reference_predictions(house_model_path, x)[0])
    assert frame["tensor"].iloc[0].ndim == (1 if emu.sdk == "2023.2" else 2)


def test_extra_columns_are_echoed(deployed: Any) -> None:
    x = house_rows(2)
    frame = pd.DataFrame({"id": ["a", "b"], "tensor": x.tolist()})
    result = deployed.infer(frame)
    assert list(result.columns)[:3] == ["time", "in.id", "in.tensor"]
    assert result["in.id"].tolist() == ["a", "b"]
    table = deployed.infer(pa.Table.from_pandas(frame, preserve_index=False))
    assert table.column("in.id").to_pylist() == ["a", "b"]
    assert len(deployed.logs()) == 4
    assert len(deployed.logs(arrow=True)) == 4
