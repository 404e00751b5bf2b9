"""HTML snippets the facade's ``_repr_html_`` methods share (not an SDK module)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any


def cell(value: Any) -> str:
    return escape("" if value is None else str(value), quote=False)


def field_value_table(rows: Iterable[tuple[str, Any]]) -> str:
    """The SDK's two-column ``Field | Value`` table (connections, models, orchestrations...)."""
    body = "".join(f"\n  <tr>\n    <td>{cell(k)}</td><td>{cell(v)}</td>\n  </tr>" for k, v in rows)
    return f"<table>\n  <tr>\n    <th>Field</th>\n    <th>Value</th>\n  </tr>{body}\n</table>"


def header_rows_table(rows: Iterable[tuple[str, Any]]) -> str:
    """The pipeline table: one ``<tr><th>key</th> <td>value</td></tr>`` per row."""
    return "<table>" + "".join(f"<tr><th>{cell(k)}</th> <td>{cell(v)}</td></tr>" for k, v in rows) + "</table>"


def list_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str) -> str:
    """A list table with a header row, or ``empty`` (e.g. ``(no connections)``) when no rows."""
    rows = list(rows)
    if not rows:
        return empty
    head = "<tr>" + "".join(f"<th>{cell(h)}</th>" for h in headers) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"
