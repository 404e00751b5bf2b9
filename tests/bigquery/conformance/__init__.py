"""Conformance cases taken from BigQuery's public documentation, run through the real client."""

from __future__ import annotations

import importlib
import re
from typing import Any

MODULES = ("cases_functions", "cases_datetime", "cases_types", "cases_query", "cases_dml", "cases_errors",
           "cases_scripting", "cases_jobs",
           "cases_numeric", "cases_signatures", "cases_functions2")


def all_cases() -> list[dict[str, Any]]:
    """Every case with a unique, readable id (module-feature-n or its own name)."""
    out: list[dict[str, Any]] = []
    for module_name in MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{module_name}":
                continue
            raise
        for index, case in enumerate(module.CASES):
            stem = case.get("name") or re.sub(r"[^a-z0-9]+", "_", case["sql"].lower())[:48].strip("_")
            case = dict(case, id=f"{module_name[6:]}-{index:03d}-{stem}")
            out.append(case)
    return out
