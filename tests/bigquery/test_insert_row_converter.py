"""insertAll's per-schema row converter gives exactly what ``convert_record`` gives: values, errors, locations."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.bigquery.insert_all import row_converter
from emulator.bigquery.wire import ValueError_, convert_record

TYPES = ("FLOAT", "INTEGER", "STRING", "BOOLEAN", "NUMERIC", "TIMESTAMP", "DATE")
MODES = ("NULLABLE", "REQUIRED", "REPEATED")
NAMES = ("a", "b", "tensor", "Mixed")

cells = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
    st.sampled_from(["1", "2.5", "nan", "2024-01-02", "2024-01-02T03:04:05Z", "true"]),
    st.lists(st.one_of(st.floats(), st.integers(-5, 5), st.none(), st.text(max_size=2)), max_size=4),
    st.lists(st.floats(allow_nan=False), max_size=4),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)

schemas = st.lists(
    st.fixed_dictionaries({"name": st.sampled_from(NAMES), "type": st.sampled_from(TYPES),
                           "mode": st.sampled_from(MODES)}),
    min_size=1, max_size=4, unique_by=lambda f: f["name"].lower())


def _outcome(fn, row):
    try:
        return "ok", fn(row)
    except ValueError_ as exc:
        return "error", (exc.location, exc.message)
    except Exception as exc:  # noqa: BLE001 - whatever convert_record raises, the converter raises too
        return "raised", (type(exc).__name__, str(exc))


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@settings(max_examples=400, deadline=None)
@given(schema=schemas, data=st.data(), ignore_unknown=st.booleans())
def test_the_converter_matches_convert_record(schema, data, ignore_unknown):
    keys = st.sampled_from([f["name"] for f in schema] + ["a", "TENSOR", "zz"])
    row = data.draw(st.dictionaries(keys, cells, max_size=5))
    fast = _outcome(row_converter(schema, ignore_unknown=ignore_unknown), row)
    general = _outcome(lambda r: convert_record(r, schema, ignore_unknown=ignore_unknown), row)
    assert fast[0] == general[0]
    assert _same(fast[1], general[1]), (fast, general)


def test_a_float_array_row_takes_the_fast_path_and_copies_the_list():
    schema = [{"name": "tensor", "type": "FLOAT", "mode": "REPEATED"}, {"name": "n", "type": "INTEGER",
                                                                        "mode": "NULLABLE"}]
    cells_in = [1.5, 2.0]
    out = row_converter(schema)({"tensor": cells_in})
    assert out == {"tensor": [1.5, 2.0], "n": None}
    assert out["tensor"] is not cells_in
