"""Deterministic zips of folders (orchestration packages): same files, same bytes."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

#: Fixed timestamp of every entry (the earliest a zip can hold).
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
SKIP_NAMES = frozenset({"__pycache__", ".DS_Store", ".ipynb_checkpoints", ".git"})


def zip_folder(folder: str | os.PathLike[str]) -> bytes:
    """A zip of ``folder``'s files: relative names, sorted, fixed timestamps and modes, deflated.

    Skips ``__pycache__``, ``.git``, ``.ipynb_checkpoints``, ``.DS_Store`` and ``*.pyc``.
    """
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_NAMES for part in rel.parts) or path.suffix == ".pyc" or not path.is_file():
            continue
        files.append((rel.as_posix(), path))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.create_system = 3
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()
