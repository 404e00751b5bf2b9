"""Fixtures for the wallaroo facade tests: emulators per profile and ONNX models built with onnx.helper."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wallaroo_testkit import (  # noqa: F401 - re-exported for the fixtures below
    PROFILES,
    _save,
    batch_one_model,
    house_price_model,
    house_rows,
    int_model,
    label_model,
    multi_io_model,
    reference_predictions,
    scale_model,
    upload,
)

from emulator.emulator import Emulator


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    _save(house_price_model(), folder / "rf_model.onnx")
    _save(multi_io_model(), folder / "multi_io.onnx")
    _save(scale_model("float_input", "doubled", 18, 2.0), folder / "double.onnx")
    _save(scale_model("doubled", "variable", 18, 0.5), folder / "half.onnx")
    _save(label_model(), folder / "labels.onnx")
    _save(int_model(), folder / "ints.onnx")
    _save(batch_one_model(), folder / "batch_one.onnx")
    (folder / "not_a_model.onnx").write_bytes(b"this is not an onnx model")
    (folder / "model.pkl").write_bytes(b"\x80\x04fake pickle")
    return folder



@pytest.fixture
def house_model_path(model_dir: Path) -> Path:
    return model_dir / "rf_model.onnx"



@pytest.fixture
def multi_io_path(model_dir: Path) -> Path:
    return model_dir / "multi_io.onnx"



@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return request.param



@pytest.fixture
def emu(profile: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    for var in ("WALLAROO_URL", "WALLAROO_SDK_AUTH_TYPE", "WALLAROO_TASK_ID", "WALLAROO_SDK_CREDENTIALS",
                "WALLAROO_USER", "WALLAROO_AUTH_URL", "WALLAROO_SDK_AUTH_ENDPOINT", "WALLAROO_REQUEST_TIMEOUT"):
        monkeypatch.delenv(var, raising=False)
    with Emulator(sdk=profile) as emulator:
        yield emulator



@pytest.fixture
def wallaroo(emu: Emulator) -> Any:
    import wallaroo as module

    return module



@pytest.fixture
def wl(wallaroo: Any, emu: Emulator) -> Any:
    if emu.sdk == "2023.2":
        return wallaroo.Client(api_endpoint="https://demo.api.example.com",
                               auth_endpoint="https://demo.keycloak.example.com", auth_type="sso")
    return wallaroo.Client()



@pytest.fixture
def workspace(wl: Any) -> Any:
    ws = wl.create_workspace("testworkspace")
    wl.set_current_workspace(ws)
    return ws



@pytest.fixture
def house_model(wl: Any, workspace: Any, house_model_path: Path) -> Any:
    return upload(wl, "housemodel", house_model_path, tensor_fields=["tensor"])



@pytest.fixture
def deployed(wl: Any, workspace: Any, house_model: Any) -> Any:
    pipeline = wl.build_pipeline("housepipeline")
    pipeline.add_model_step(house_model)
    pipeline.deploy()
    return pipeline

