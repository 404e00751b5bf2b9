"""ONNX sniffing (``upload_model`` without a framework) reads the protobuf wire format itself and
decides as parsing the file with ``onnx`` and checking its graph would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.wallaroo.inference import sniff_onnx


def _onnx_decides(data: bytes) -> bool:
    try:
        model = onnx.load_model_from_string(data)
    except Exception:
        return False
    return bool(model.graph.node) or bool(model.graph.output)


MODELS = ("rf_model.onnx", "multi_io.onnx", "double.onnx", "labels.onnx", "ints.onnx", "batch_one.onnx")


@pytest.mark.parametrize("name", MODELS)
def test_every_model_is_recognised(model_dir: Path, name: str) -> None:
    assert sniff_onnx((model_dir / name).read_bytes()) is True


@pytest.mark.parametrize("data", [b"", b"this is not an onnx model", b"\x80\x04fake pickle", b"PK\x03\x04zip",
                                  b"\x08\x07", b"\x3a\x00", b"\xff" * 20])
def test_non_models_are_refused(data: bytes) -> None:
    assert sniff_onnx(data) is False
    assert _onnx_decides(data) is False


def test_agrees_with_onnx_on_every_truncation(model_dir: Path) -> None:
    data = (model_dir / "multi_io.onnx").read_bytes()
    for cut in range(len(data) + 1):
        assert sniff_onnx(data[:cut]) == _onnx_decides(data[:cut]), cut


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_model_onnx_accepts_is_accepted_after_random_byte_changes(model_dir: Path, data: st.DataObject) -> None:
    raw = bytearray((model_dir / "double.onnx").read_bytes())
    for _ in range(data.draw(st.integers(0, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    if _onnx_decides(bytes(raw)):
        assert sniff_onnx(bytes(raw))


def test_sniffing_does_not_import_onnx(house_model_path: Path) -> None:
    code = ("import sys; from emulator.wallaroo.inference import sniff_onnx; "
            f"assert sniff_onnx(open({str(house_model_path)!r}, 'rb').read()); assert 'onnx' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
