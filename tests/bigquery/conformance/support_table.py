"""Render the feature-support table of docs/sql-support.md from the conformance cases.

Run ``python -m tests.bigquery.conformance.support_table --write`` (from the repository root) to
update the document in place (without ``--write`` it prints the table); ``test_support_doc.py``
fails when the committed document disagrees with the cases.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from pathlib import Path

from . import all_cases

BEGIN = "<!-- support-table:begin (generated from tests/bigquery/conformance; do not edit by hand) -->"
END = "<!-- support-table:end -->"


def render() -> str:
    cases = all_cases()
    features: OrderedDict[str, list[dict]] = OrderedDict()
    for case in sorted(cases, key=lambda c: c["feature"].lower()):
        features.setdefault(case["feature"], []).append(case)
    lines = [BEGIN, "", "| feature | status | cases | passing | expected failures |", "| --- | --- | --- | --- | --- |"]
    for feature, group in features.items():
        failing = [c for c in group if c["xfail"]]
        status = "supported" if not failing else "missing" if len(failing) == len(group) else "partial"
        lines.append(f"| {feature} | {status} | {len(group)} | {len(group) - len(failing)} | {len(failing)} |")
    total = len(cases)
    xfails = [c for c in cases if c["xfail"]]
    lines += ["", f"Total: {total} documented cases, {total - len(xfails)} passing, "
              f"{len(xfails)} expected failures (`xfail(strict=True)`).", "",
              "### Known gaps (each is an expected-failure case)", ""]
    for case in sorted(xfails, key=lambda c: (c["feature"].lower(), c["source"])):
        lines.append(f"- **{case['feature']}** — {case['source']}: {case['xfail']}.")
    lines += ["", END]
    return "\n".join(lines)


DOC = Path(__file__).resolve().parents[3] / "docs" / "sql-support.md"


def write(doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    doc.write_text(text[:start] + render() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    else:
        print(render())
