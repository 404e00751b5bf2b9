"""Models: upload (sha256, framework, ONNX sniffing), configure, repr and HTML per profile, bad files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from emulator.emulator import Emulator


def test_upload_without_framework_as_the_2023_tutorial(wl: Any, workspace: Any, house_model_path: Path,
                                                       emu: Emulator, wallaroo: Any) -> None:
    model = wl.upload_model("bigquerymodel", str(house_model_path)).configure()
    expected = wallaroo.model.Model if emu.sdk == "2023.2" else wallaroo.model_version.ModelVersion
    assert type(model) is expected
    assert model.sha() == hashlib.sha256(house_model_path.read_bytes()).hexdigest()
    assert model.framework() == "onnx"
    assert model.name() == "bigquerymodel"
    assert model.file_name() == "rf_model.onnx"
    assert model.status() == "ready"
    assert model.config().runtime() == "onnx"
    assert model.config().tensor_fields() is None


def test_configure_stores_tensor_fields(house_model: Any) -> None:
    assert house_model.config().tensor_fields() == ["tensor"]
    with pytest.raises(TypeError):
        house_model.configure(tensor_fields="tensor")


def test_newest_only_configure_arguments(house_model: Any, emu: Emulator) -> None:
    if emu.sdk == "2023.2":
        with pytest.raises(TypeError, match="dynamic_batching_config"):
            house_model.configure(dynamic_batching_config={})
    else:
        assert house_model.configure(dynamic_batching_config={"max_batch_delay_ms": 10}) is house_model


def test_versions_accumulate(wl: Any, workspace: Any, house_model_path: Path, multi_io_path: Path) -> None:
    from wallaroo.framework import Framework

    first = wl.upload_model("m", str(house_model_path), framework=Framework.ONNX)
    second = wl.upload_model("m", str(multi_io_path), framework=Framework.ONNX)
    assert first.version() != second.version()
    listed = wl.list_models()
    assert [m.name() for m in listed] == ["m"]
    assert [v.version() for v in listed[0].versions()] == [first.version(), second.version()]


def test_bad_uploads(wl: Any, workspace: Any, model_dir: Path, wallaroo: Any) -> None:
    from wallaroo.framework import Framework

    with pytest.raises(ValueError, match="framework must be a Framework Enum"):
        wl.upload_model("m", str(model_dir / "rf_model.onnx"), framework="onnx")
    with pytest.raises(ValueError, match="framework must be a Framework Enum"):
        wl.upload_model("m", str(model_dir / "model.pkl"))  # not ONNX and no framework given
    with pytest.raises(wallaroo.object.ModelUploadError, match="not a valid ONNX model"):
        wl.upload_model("m", str(model_dir / "not_a_model.onnx"), framework=Framework.ONNX)
    with pytest.raises(wallaroo.object.InvalidNameError):
        wl.upload_model("bad_name", str(model_dir / "rf_model.onnx"), framework=Framework.ONNX)
    with pytest.raises(FileNotFoundError):
        wl.upload_model("m", str(model_dir / "missing.onnx"), framework=Framework.ONNX)
    assert list(wl.list_models()) == []


def test_other_frameworks_upload(wl: Any, workspace: Any, model_dir: Path) -> None:
    from wallaroo.framework import Framework

    model = wl.upload_model("sk", str(model_dir / "model.pkl"), framework=Framework.SKLEARN)
    assert model.framework() == "sklearn"


def test_newest_framework_values_only_in_newest(wl: Any, workspace: Any, model_dir: Path, emu: Emulator) -> None:
    from wallaroo.framework import Framework

    if emu.sdk == "2023.2":
        with pytest.raises(ValueError):
            wl.upload_model("v", str(model_dir / "model.pkl"), framework=Framework.VLLM)
    else:
        assert wl.upload_model("v", str(model_dir / "model.pkl"), framework=Framework.VLLM).framework() == "vllm"


def test_repr_and_html(house_model: Any, emu: Emulator) -> None:
    data = eval(repr(house_model), {"datetime": __import__("datetime")})
    keys = ["name", "version", "file_name", "image_path", "last_update_time"]
    if emu.sdk != "2023.2":
        keys = ["name", "version", "file_name", "image_path", "arch", "accel", "last_update_time"]
    assert list(data) == keys
    html = house_model._repr_html_()
    for field in ("Name", "Version", "File Name", "SHA", "Status", "Image Path", "Updated At"):
        assert f"<td>{field}</td>" in html
    assert ("<td>Architecture</td>" in html) is (emu.sdk != "2023.2")
    assert f"<td>{house_model.sha()}</td>" in html


def test_get_model_newest(wl: Any, house_model: Any, emu: Emulator, wallaroo: Any) -> None:
    if emu.sdk == "2023.2":
        assert not hasattr(wl, "get_model")
        return
    assert wl.get_model("housemodel").version() == house_model.version()
    with pytest.raises(wallaroo.object.EntityNotFoundError):
        wl.get_model("nope")
