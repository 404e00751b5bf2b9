"""Reading the code cells of a Jupyter notebook file (``.ipynb``) without nbformat.

A notebook file is JSON (the nbformat specification, https://nbformat.readthedocs.io): in
format 4 a top-level ``cells`` list whose items have a ``cell_type`` (``code``, ``markdown``,
``raw``) and a ``source``; in format 3 the cells sit in ``worksheets[].cells`` and a code
cell's text is its ``input``. Either text is a "multiline string": one string, or a list of
strings to concatenate. That is all the runner needs, so it reads the JSON itself: a plain
``pip install wallaroo-emulator`` replays notebooks without nbformat and its four dependencies
(nbformat stays in the test extra, where a test holds this reader against it). Anything that is
not such a file raises :class:`NotebookFormatError` with a one-line reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class NotebookFormatError(ValueError):
    """The file is not a notebook this reader understands (the message says why, on one line)."""


def _text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return "".join(value)
    raise NotebookFormatError(f"{where}: expected a string or a list of strings, got {type(value).__name__}")


def read_cells(path: str | os.PathLike[str]) -> list[tuple[int, str, str]]:
    """``(index, cell_type, source)`` of every cell of the notebook at ``path``, in order."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise NotebookFormatError(f"{p}: not a notebook (not UTF-8 text: {exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise NotebookFormatError(f"{p}: not a notebook (invalid JSON at line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise NotebookFormatError(f"{p}: not a notebook (the JSON is a {type(data).__name__}, not an object)")
    major = data.get("nbformat")
    if major == 4 or (major is None and "cells" in data):
        cells = data.get("cells")
        if not isinstance(cells, list):
            raise NotebookFormatError(f"{p}: not a notebook (no 'cells' list)")
        source_key = "source"
    elif major == 3:
        worksheets = data.get("worksheets")
        if not isinstance(worksheets, list) or not all(isinstance(w, dict) for w in worksheets):
            raise NotebookFormatError(f"{p}: not a notebook (format 3 without a 'worksheets' list)")
        cells = [cell for sheet in worksheets for cell in sheet.get("cells", [])]
        source_key = "input"
    else:
        raise NotebookFormatError(f"{p}: unsupported notebook format {major!r} (formats 3 and 4 are read)")
    out = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookFormatError(f"{p}: cell {index}: not a cell (no 'cell_type')")
        kind = cell["cell_type"]
        key = source_key if kind == "code" else "source"
        out.append((index, kind, _text(cell.get(key, ""), f"{p}: cell {index} {key!r}")))
    return out
