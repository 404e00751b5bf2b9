"""Text renderings of what a notebook shows: HTML tables of SDK objects and DataFrames.

The SDK's objects render as HTML tables in Jupyter (``_repr_html_``); a transcript is text, so
their tables are laid out as aligned columns here. DataFrames use pandas' own text layout.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif data.strip():
            self.text.append(data.strip())


def html_to_text(html: str) -> str:
    """Lay out the rows of HTML tables as aligned text columns (other text kept as lines)."""
    parser = _TableParser()
    parser.feed(html)
    if not parser.rows:
        return "\n".join(parser.text)
    width = max(len(r) for r in parser.rows)
    rows = [r + [""] * (width - len(r)) for r in parser.rows]
    sizes = [max(len(r[i]) for r in rows) for i in range(width)]
    lines = ["  ".join(cell.ljust(sizes[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    return "\n".join(parser.text + lines)


def show(value: Any) -> str:
    """What a notebook displays for ``value``, as text."""
    try:
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            return value.to_string()
    except ImportError:  # pragma: no cover
        pass
    html = getattr(value, "_repr_html_", None)
    if callable(html):
        rendered = html()
        if rendered:
            return html_to_text(rendered)
    return repr(value)
