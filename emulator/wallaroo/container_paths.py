"""The task container's fixed files, emulated without touching the real file system.

On the platform a task's ``main.py`` runs in a container whose ``/home/jovyan/arguments.json``
holds the task's ``json_args``; the real SDK's ``Client.task_args()`` opens exactly that path
(hard-coded). The emulator never writes under the real ``/home``. Instead, while it is active,
``open`` (``builtins.open`` and ``io.open``, which the SDK and ``pathlib`` use) is wrapped: a
request to open :data:`ARGUMENTS_FILE` **from code running inside a task run** is served from a
copy of the run's arguments written into a folder the emulator owns; every other call (other
paths, or any path outside a run) goes to the real ``open`` unchanged. Outside a run the path
behaves as on the host (usually ``FileNotFoundError``, as the SDK shows outside a task).

Only ``open`` is redirected: ``os.path.exists``/``os.stat`` of the path still see the host.

:func:`install` is reusable by an isolated run's own process (pass its lookup and folder).
"""

from __future__ import annotations

import builtins
import io
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator.wallaroo.orchestrations import PLATFORM_HOME

ARGUMENTS_FILE = f"{PLATFORM_HOME}/arguments.json"

_lock = threading.Lock()
_layers: list[tuple[Callable[[], Any], Path]] = []
_real_open: Any = None


def _current_run_arguments() -> tuple[str, Any] | None:
    from emulator.wallaroo import runner

    run = runner.current_run()
    return None if run is None else (run.run_id, run.json_args)


def _redirected(file: Any) -> Any:
    """The emulator-owned copy to open instead of ``file``, or ``file`` itself."""
    if not _layers or not isinstance(file, str | os.PathLike):
        return file
    try:
        path = os.fspath(file)
    except TypeError:  # pragma: no cover
        return file
    if path != ARGUMENTS_FILE and os.path.normpath(path) != ARGUMENTS_FILE:
        return file
    lookup, folder = _layers[-1]
    found = lookup()
    if found is None:
        return file
    run_id, arguments = found
    copy = folder / f"{run_id}-arguments.json"
    if not copy.exists():
        folder.mkdir(parents=True, exist_ok=True)
        copy.write_text(json.dumps(arguments), encoding="utf-8")
    return str(copy)


def _open(file: Any, *args: Any, **kwargs: Any) -> Any:
    return _real_open(_redirected(file), *args, **kwargs)


def install(folder: str | os.PathLike[str],
            lookup: Callable[[], tuple[str, Any] | None] = _current_run_arguments) -> Callable[[], None]:
    """Serve :data:`ARGUMENTS_FILE` from ``folder`` for runs ``lookup`` names; returns the undo.

    ``lookup()`` gives ``(run_id, json_args)`` of the run whose code is executing, or ``None``.
    """
    global _real_open
    layer = (lookup, Path(folder))
    with _lock:
        if not _layers:
            _real_open = builtins.open
            builtins.open = _open
            io.open = _open
        _layers.append(layer)

    def undo() -> None:
        global _real_open
        with _lock:
            if layer in _layers:
                _layers.remove(layer)
            if not _layers and _real_open is not None:
                builtins.open = _real_open
                io.open = _real_open
                _real_open = None

    return undo
