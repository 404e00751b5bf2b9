"""Keep the BigQuery client on REST while an emulator is active.

When ``google-cloud-bigquery-storage`` is installed, ``to_dataframe()``/``to_arrow()`` on a
``list_rows`` iterator (and on query results whose job names a destination table) switch to the
Storage Read API, which speaks gRPC to ``bigquerystorage.googleapis.com`` — a channel that
cannot be served in-process through ``responses``, and has no REST fallback once chosen. While
an emulator is active the package is therefore made unimportable (``sys.modules`` entry set to
``None`` and the attribute hidden on ``google.cloud``), so the client warns "BigQuery Storage
module not found" and reads over REST, unchanged otherwise. Leaving the emulator restores both.
Query jobs also carry no anonymous ``destinationTable``, which keeps query results on REST even
for code that built its own Storage client.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable

_NAMES = ("google.cloud.bigquery_storage", "google.cloud.bigquery_storage_v1")
_installed: bool | None = None


def _storage_installed() -> bool:
    global _installed
    if _installed is None:
        try:
            _installed = importlib.util.find_spec("google.cloud.bigquery_storage") is not None
        except (ImportError, ValueError):
            _installed = False
    return _installed


def hide_storage_api() -> Callable[[], None]:
    """Make the Storage Read API package unimportable; returns the function that undoes it."""
    if not _storage_installed() and not any(name in sys.modules for name in _NAMES):
        return lambda: None
    saved_modules = {name: sys.modules.get(name, _MISSING) for name in _NAMES}
    package = sys.modules.get("google.cloud")
    saved_attrs = {}
    for name in _NAMES:
        sys.modules[name] = None  # type: ignore[assignment]
        attr = name.rsplit(".", 1)[1]
        if package is not None and attr in vars(package):
            saved_attrs[attr] = vars(package)[attr]
            delattr(package, attr)

    def restore() -> None:
        for name, module in saved_modules.items():
            if module is _MISSING:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        if package is not None:
            for attr, value in saved_attrs.items():
                setattr(package, attr, value)

    return restore


_MISSING = object()
