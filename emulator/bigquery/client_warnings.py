"""google-cloud-bigquery's "use pandas-gbq instead" nags, silenced while an emulator is active.

Since 3.2x the client warns on every DataFrame call, whatever the data or the service:
``RowIterator.to_dataframe`` (and ``QueryJob.to_dataframe``) warn
``PendingDeprecationWarning: Retrieving DataFrames via google-cloud-bigquery is deprecated...``
unconditionally; ``load_table_from_dataframe`` and ``insert_rows_from_dataframe`` warn likewise;
and, without the ``pandas-gbq`` package, building a schema from a DataFrame warns
``FutureWarning: Loading pandas DataFrame into BigQuery will require pandas-gbq...``; the Storage
Read API reader of google-cloud-bigquery-storage warns on every page it converts. They
concern which library the user should call, not what their code does against BigQuery, and
pytest shows them on every test; installing pandas-gbq (and its OAuth stack) would only silence
the last one. So while an emulator is active these messages, and only these, are ignored; the
filters are removed on exit (other filters added meanwhile are kept).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

#: (category, message regex) of each nag.
PANDAS_GBQ_NAGS: tuple[tuple[type[Warning], str], ...] = (
    (PendingDeprecationWarning, r"Retrieving DataFrames via google-cloud-bigquery is deprecated"),
    (PendingDeprecationWarning, r"Loading DataFrames via google-cloud-bigquery is deprecated"),
    (PendingDeprecationWarning, r"Inserting rows from DataFrames via google-cloud-bigquery is deprecated"),
    (FutureWarning, r"Loading pandas DataFrame into BigQuery will require pandas-gbq"),
    # google-cloud-bigquery-storage's reader, on every page of a Storage Read API download (the
    # path to_dataframe()/to_arrow() take): the same advice, from the other package
    (PendingDeprecationWarning, r"Retrieving Arrow record batches directly via google-cloud-bigquery-storage"),
    (PendingDeprecationWarning, r"Retrieving DataFrames directly via google-cloud-bigquery-storage"),
)


def silence_pandas_gbq_nags() -> Callable[[], None]:
    """Ignore :data:`PANDAS_GBQ_NAGS`; returns the function that removes exactly those filters."""
    before = list(warnings.filters)
    for category, message in PANDAS_GBQ_NAGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    ours = [f for f in warnings.filters if f not in before]

    def restore() -> None:
        remaining = [f for f in warnings.filters if f not in ours]
        if len(remaining) != len(warnings.filters):
            warnings.filters[:] = remaining
            _filters_mutated()

    return restore


def _filters_mutated() -> None:
    """Tell the warnings machinery its filter list changed (its per-module caches go stale)."""
    for name in ("_filters_mutated", "_filters_mutated_lock_held"):
        hook = getattr(warnings, name, None)
        if hook is not None:
            try:
                hook()
            except Exception:  # noqa: BLE001 - the lock-held variant insists on its lock
                continue
            return
