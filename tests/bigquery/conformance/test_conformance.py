"""Every documented case through the real client (``client.query(sql).result()``).

Cases live as data in ``cases_*.py``; those the emulator cannot support yet are
``xfail(strict=True)`` with the reason, so fixing one turns the suite red until the mark goes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from . import all_cases

CASES = all_cases()

_TYPE_ALIASES = {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN", "STRUCT": "RECORD"}


def _param(spec: tuple) -> Any:
    name, ptype, value = spec
    if ptype.startswith("ARRAY<") and ptype.endswith(">"):
        return bigquery.ArrayQueryParameter(name, ptype[6:-1], value)
    if ptype == "STRUCT":
        subs = [bigquery.ScalarQueryParameter(n, t, v) for n, t, v in value]
        return bigquery.StructQueryParameter(name, *subs)
    return bigquery.ScalarQueryParameter(name, ptype, value)


def _job_config(case: dict) -> bigquery.QueryJobConfig:
    config = bigquery.QueryJobConfig()
    if case["params"]:
        config.query_parameters = [_param(p) for p in case["params"]]
    if case["dataset"]:
        config.default_dataset = f"my-proj.{case['dataset']}"
    return config


def _norm(value: Any, approx: bool) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return round(value, 9) if approx else value
    if isinstance(value, list | tuple):
        return tuple(_norm(v, approx) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _norm(v, approx)) for k, v in value.items()))
    return value


def _same(actual: Any, expected: Any, approx: bool) -> bool:
    """Equal values of the same Python type (floats within 1e-9 relative when ``approx``)."""
    if isinstance(expected, float):
        if not isinstance(actual, float):
            return False
        if math.isnan(expected):
            return math.isnan(actual)
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12) if approx else actual == expected
    if isinstance(expected, list | tuple):
        return (isinstance(actual, list | tuple) and len(actual) == len(expected)
                and all(_same(a, e, approx) for a, e in zip(actual, expected)))
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and list(actual) == list(expected)
                and all(_same(actual[k], expected[k], approx) for k in expected))
    if isinstance(expected, dt.datetime):
        return (isinstance(actual, dt.datetime) and (expected.tzinfo is None) == (actual.tzinfo is None)
                and actual == expected)
    return type(actual) is type(expected) and actual == expected


def _params() -> list[Any]:
    out = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case["xfail"] else []
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_case(bq: Any, case: dict) -> None:
    for statement in case["setup"]:
        bq.query(statement).result()
    if case["error"]:
        with pytest.raises(exceptions.GoogleAPICallError) as info:
            bq.query(case["sql"], job_config=_job_config(case)).result()
        reasons = [e.get("reason") for e in (info.value.errors or [])]
        assert case["error"] in reasons, (reasons, str(info.value))
        if case["message"]:
            assert case["message"].lower() in str(info.value).lower()
        return
    job = bq.query(case["sql"], job_config=_job_config(case))
    result = job.result()
    if case["rows"] is not None:
        actual = [tuple(row.values()) for row in result]
        expected = [tuple(r) for r in case["rows"]]
        if case["ordered"]:
            assert len(actual) == len(expected), actual
            assert all(_same(a, e, case["approx"]) for a, e in zip(actual, expected)), actual
        else:
            assert Counter(_norm(r, case["approx"]) for r in actual) == \
                Counter(_norm(r, case["approx"]) for r in expected), actual
    if case["types"] is not None:
        types = [_TYPE_ALIASES.get(f.field_type, f.field_type) for f in result.schema]
        assert types == [_TYPE_ALIASES.get(t, t) for t in case["types"]]
    if case["columns"] is not None:
        assert [f.name for f in result.schema] == case["columns"]
    if case["affected"] is not None:
        assert job.num_dml_affected_rows == case["affected"]
    if case["schema"] is not None:
        table = bq.get_table(f"my-proj.{case['schema_of']}")

        def flat(fields: Any) -> list[tuple]:
            return [(f.name, _TYPE_ALIASES.get(f.field_type, f.field_type), f.mode) for f in fields]
        assert flat(table.schema) == [(n, _TYPE_ALIASES.get(t, t), m) for n, t, m in case["schema"]]


def test_enough_documented_cases() -> None:
    assert len(CASES) >= 250
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert all(c["source"] for c in CASES)
