"""The shipped house-price model and houses equal a fresh build and behave like the tutorial's."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pyarrow as pa
import pytest

from tutorial_replay import build_assets as b


def test_shipped_assets_equal_a_fresh_build():
    fresh = b.build_all()
    for rel, data in fresh.items():
        assert b.asset_path(rel).read_bytes() == data, f"{rel} differs from a fresh build"


def test_builds_are_byte_identical():
    assert b.build_all() == b.build_all()


def test_check_mode_reports_a_tampered_file(tmp_path):
    b.write_all(tmp_path)
    assert b.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / b.DATA_1).write_text("[]")
    assert b.differences(tmp_path) == [b.DATA_1]
    assert b.main(["--check", "--out", str(tmp_path)]) == 1


@pytest.fixture(scope="module")
def session():
    return ort.InferenceSession(str(b.asset_path(b.MODEL_PATH)), providers=["CPUExecutionProvider"])


def _rows(rel):
    return [r["tensor"] for r in json.loads(b.asset_path(rel).read_text())]


def test_model_has_the_tutorial_interface(session):
    (inp,) = session.get_inputs()
    (out,) = session.get_outputs()
    assert (inp.name, inp.type, inp.shape[1]) == ("float_input", "tensor(float)", 18)
    assert (out.name, out.type, out.shape[1]) == ("variable", "tensor(float)", 1)


def _predict(session, rows):
    return session.run(None, {"float_input": np.asarray(rows, dtype=np.float32)})[0]


def test_prices_are_plausible_and_vary(session):
    prices = _predict(session, _rows(b.DATA_1K))
    assert prices.shape == (1000, 1) and prices.dtype == np.float32
    assert 100_000 < float(prices.min()) and float(prices.max()) < 15_000_000
    assert 300_000 < float(np.median(prices)) < 900_000
    assert len(np.unique(prices)) > 990


def test_bigger_better_houses_cost_more(session):
    house = _rows(b.DATA_1)[0]
    bigger = list(house)
    bigger[2] += 1000  # sqft_living
    bigger[9] += 1000  # sqft_above
    better = list(house)
    better[8] += 2  # grade
    base, big, good = _predict(session, [house, bigger, better])[:, 0]
    assert big > base and good > base


def test_model_matches_its_python_formula(session):
    rows = _rows(b.DATA_1K)[:50]
    np.testing.assert_allclose(_predict(session, rows)[:, 0], b.predict(rows), rtol=1e-4)


def test_small_and_big_inputs_straddle_the_threshold(session):
    small = _predict(session, _rows(b.DATA_SMALL))
    big = _predict(session, _rows(b.DATA_BIG))
    assert len(small) == b.N_SMALL and float(small.max()) < b.PRICE_THRESHOLD
    assert len(big) == b.N_BIG and float(big.min()) > b.PRICE_THRESHOLD


def test_houses_have_the_18_features():
    rows = _rows(b.DATA_1K)
    assert len(rows) == 1000 and all(len(r) == 18 for r in rows)
    assert _rows(b.DATA_1) == rows[:1]
    cols = np.asarray(rows).T
    features = dict(zip(b.FEATURES, cols))
    assert set(np.unique(features["waterfront"])) <= {0.0, 1.0}
    assert (features["sqft_above"] + features["sqft_basement"] == features["sqft_living"]).all()
    assert (47.0 < features["lat"]).all() and (features["long"] < -121.0).all()


def test_arrow_file_holds_the_same_houses():
    table = pa.ipc.open_file(pa.BufferReader(b.asset_path(b.DATA_1K_ARROW).read_bytes())).read_all()
    assert table.column_names == ["tensor"]
    np.testing.assert_allclose(
        np.asarray(table["tensor"].to_pylist()), np.asarray(_rows(b.DATA_1K)), rtol=1e-6
    )
