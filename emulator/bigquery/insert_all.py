"""insertAll (streaming inserts): per-row validation, ``insertErrors`` and insertId de-duplication.

Without ``skip_invalid_rows`` one bad row keeps the whole request out and every other row is
reported with reason ``stopped``; with it, the valid rows are stored. A row whose ``insertId``
was seen on the same table within :data:`INSERT_ID_WINDOW_S` (virtual) seconds is dropped, as
BigQuery's best-effort de-duplication does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.bigquery.catalog import Catalog, TableKey, TableMeta
from emulator.bigquery.errors import Invalid
from emulator.bigquery.tabledata import TableData
from emulator.bigquery.wire import ValueError_, convert_field, convert_record

if TYPE_CHECKING:
    from emulator.clock import Clock

#: insertAll de-duplicates rows with the same insertId within this many (virtual) seconds.
INSERT_ID_WINDOW_S = 60


class StreamingInserts:
    """insertAll over the catalog's tables."""

    def __init__(self, catalog: Catalog, data: TableData, clock: Clock) -> None:
        self.catalog = catalog
        self.data = data
        self.clock = clock
        self._insert_ids: dict[TableKey, dict[str, int]] = {}
        #: evaluates GoogleSQL expressions (column defaults) in a project: (expressions, project) -> values
        self.evaluate: Callable[[list[str], str], list[Any]] | None = None
        catalog.on_table_removed.append(self.forget)

    def forget(self, key: TableKey) -> None:
        """The table went away: its insertIds no longer de-duplicate anything."""
        self._insert_ids.pop(key, None)

    def insert_rows(self, project: str, dataset: str, table: str, rows: list[dict[str, Any]], *,
                    skip_invalid_rows: bool = False, ignore_unknown_values: bool = False,
                    insert_ids: list[str | None] | None = None) -> list[dict[str, Any]]:
        """insertAll: returns BigQuery's ``insertErrors`` list (empty when every row went in)."""
        meta = self.catalog.require_table(project, dataset, table)
        if meta.kind == "VIEW":
            raise Invalid(f"Cannot insert into a view: {project}:{dataset}.{table}")
        converted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        good_index: list[int] = []
        convert = row_converter(meta.schema, ignore_unknown=ignore_unknown_values)
        defaults = _Defaults(meta, self.evaluate, ignore_unknown_values)
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.append({"index": index, "errors": [{"reason": "invalid", "location": "", "debugInfo": "",
                                                           "message": "Row is not a JSON object."}]})
                continue
            try:
                converted.append(defaults.convert(row) if defaults.missing(row) else convert(row))
                good_index.append(index)
            except ValueError_ as exc:
                errors.append({"index": index, "errors": [{"reason": "invalid", "location": exc.location,
                                                           "debugInfo": "", "message": exc.message}]})
        if errors and not skip_invalid_rows:
            failed = {e["index"] for e in errors}
            stopped = [{"index": i, "errors": [{"reason": "stopped", "location": "", "debugInfo": "", "message": ""}]}
                       for i in range(len(rows)) if i not in failed]
            return sorted(errors + stopped, key=lambda e: e["index"])
        if not converted:
            return errors
        ids = [insert_ids[i] for i in good_index] if insert_ids else [None] * len(converted)
        # De-duplicate and append as one step under the backend's lock: requests racing on the same
        # insertIds store each row once, and an id counts as seen only once its row is stored.
        with self.catalog.engine.lock:
            kept, kept_ids = self._unseen(meta.key, converted, ids)
            if kept:
                self.data.append_rows(meta, kept)
                self._remember(meta.key, kept_ids)
        return errors

    def _unseen(self, key: TableKey, rows: list[dict[str, Any]], ids: list[str | None]
                ) -> tuple[list[dict[str, Any]], list[str]]:
        """The rows whose insertId (if any) was not stored within the window, and their ids."""
        seen = self._insert_ids.get(key, {})
        horizon = self.clock.epoch_ms() - INSERT_ID_WINDOW_S * 1000
        kept: list[dict[str, Any]] = []
        kept_ids: list[str] = []
        in_request: set[str] = set()
        for row, insert_id in zip(rows, ids):
            if insert_id:
                if insert_id in in_request or seen.get(insert_id, horizon - 1) >= horizon:
                    continue
                in_request.add(insert_id)
                kept_ids.append(insert_id)
            kept.append(row)
        return kept, kept_ids

    def _remember(self, key: TableKey, ids: list[str]) -> None:
        if not ids:
            return
        now = self.clock.epoch_ms()
        seen = self._insert_ids.setdefault(key, {})
        horizon = now - INSERT_ID_WINDOW_S * 1000
        for insert_id in [k for k, ms in seen.items() if ms < horizon]:
            del seen[insert_id]
        for insert_id in ids:
            seen[insert_id] = now


class _Defaults:
    """Column default values (``defaultValueExpression``) for the columns an inserted row leaves out.

    BigQuery writes a column's default when a streamed row does not name the column (an explicit
    null stays null). The expressions are evaluated once per request, so every row of a request
    gets the same ``CURRENT_TIMESTAMP()``.
    """

    def __init__(self, meta: TableMeta, evaluate: Callable[[list[str], str], list[Any]] | None,
                 ignore_unknown: bool) -> None:
        self.meta = meta
        self.fields = {f["name"].lower(): f for f in meta.schema if f.get("defaultValueExpression")}
        self.evaluate = evaluate
        self.ignore_unknown = ignore_unknown
        self._values: dict[str, Any] | None = None

    def missing(self, row: dict[str, Any]) -> list[str]:
        if not self.fields:
            return []
        present = {str(key).lower() for key in row}
        return [name for name in self.fields if name not in present]

    def convert(self, row: dict[str, Any]) -> dict[str, Any]:
        missing = self.missing(row)
        values = self._evaluated()
        # the left-out columns may be REQUIRED: convert the row as if they were NULLABLE, then fill them
        relaxed = [{**f, "mode": "NULLABLE"} if f["name"].lower() in missing and f.get("mode") == "REQUIRED" else f
                   for f in self.meta.schema]
        out = convert_record(row, relaxed, ignore_unknown=self.ignore_unknown)
        for name in missing:
            out[self.fields[name]["name"]] = values[name]
        return out

    def _evaluated(self) -> dict[str, Any]:
        if self._values is None:
            if self.evaluate is None:
                raise Invalid("wallaroo-emulator cannot evaluate column defaults here")
            names = list(self.fields)
            results = self.evaluate([self.fields[n]["defaultValueExpression"] for n in names], self.meta.project)
            self._values = dict(zip(names, results))
        return self._values


#: What a fast cell converter answers when the cell needs the general conversion.
_GENERAL = object()


def _fast_cell(field: dict[str, Any]) -> Callable[[Any], Any] | None:
    """A converter for the common cells of ``field`` (exact JSON types) giving what ``convert_field`` gives,
    or ``_GENERAL`` for any other cell; None when the field type has no fast path."""
    ftype, mode = field["type"], field.get("mode")
    if field.get("maxLength") is not None:  # STRING(L)/BYTES(L): the general path checks the length
        return None
    if mode == "REPEATED":
        if ftype == "FLOAT":
            def floats(value: Any) -> Any:
                if type(value) is list and all(type(item) is float for item in value):
                    return list(value)
                return [] if value is None else _GENERAL
            return floats
        return None
    scalar: type | None = {"FLOAT": float, "STRING": str, "BOOLEAN": bool, "INTEGER": int}.get(ftype)
    if scalar is None:
        return None
    nullable = mode != "REQUIRED"
    low, high = -(2**63), 2**63

    def cell(value: Any) -> Any:
        kind = type(value)
        if kind is scalar and (scalar is not int or low <= value < high):
            return value
        if value is None and nullable:
            return None
        if scalar is float and kind is int:
            return float(value)
        return _GENERAL
    return cell


def row_converter(schema: list[dict[str, Any]], *,
                  ignore_unknown: bool = False) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``convert_record(row, schema, ignore_unknown=...)`` for many rows of one schema, with fast paths.

    Rows whose keys are the schema's own names take per-field converters for the common JSON cells
    (floats, arrays of floats, strings, booleans, in-range integers, nulls); any other cell goes through
    ``convert_field`` (same value, same error and location), and a row with any other key (a different
    case, an unknown field) through ``convert_record`` itself. Results and errors are identical
    (a hypothesis property in tests/bigquery/test_insert_row_converter.py).
    """
    fields = {f["name"]: f for f in schema}
    fast = {name: _fast_cell(f) for name, f in fields.items()}
    defaults = [(f["name"], f.get("mode")) for f in schema]

    def convert(row: dict[str, Any]) -> dict[str, Any]:
        if not all(key in fields for key in row):
            return convert_record(row, schema, ignore_unknown=ignore_unknown)
        out: dict[str, Any] = {}
        for key, value in row.items():
            quick = fast[key]
            result = _GENERAL if quick is None else quick(value)
            out[key] = convert_field(value, fields[key], key) if result is _GENERAL else result
        if len(out) < len(defaults):
            for name, mode in defaults:
                if name not in out:
                    if mode == "REQUIRED":
                        return convert_record(row, schema, ignore_unknown=ignore_unknown)  # raises its error
                    out[name] = [] if mode == "REPEATED" else None
        return out

    return convert
