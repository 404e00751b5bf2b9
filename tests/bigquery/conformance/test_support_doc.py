"""docs/sql-support.md must show the support table the conformance cases imply."""

from __future__ import annotations

from .support_table import BEGIN, DOC, END, render


def test_support_table_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == render(), "regenerate with: python -m tests.bigquery.conformance.support_table --write"
