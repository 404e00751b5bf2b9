"""Table data as the Storage Read API serializes it: Arrow (IPC schema + record batches) or Avro.

Arrow types per BigQuery type, as the real service sends them (and as google-cloud-bigquery's
REST path builds them, so both paths give the same DataFrames): INT64 int64, FLOAT64 double,
NUMERIC decimal128(38, 9), BIGNUMERIC decimal256(76, 38), BOOL bool, STRING string, BYTES binary,
DATE date32, TIME time64[us], DATETIME timestamp[us] (no zone), TIMESTAMP timestamp[us, tz=UTC],
JSON string, GEOGRAPHY string (WKT), INTERVAL month_day_nano interval, RECORD struct,
RANGE<T> struct<start: T, end: T>, REPEATED list<item: T>. DATETIME, JSON and GEOGRAPHY fields
carry the service's ``ARROW:extension:name`` metadata (``google:sqlType:…``; GEOGRAPHY also
``ARROW:extension:metadata`` ``{"encoding": "WKT"}``). REQUIRED and REPEATED fields are not
nullable, NULLABLE ones are.

Avro follows the service's documented mapping: a ``__root__`` record; INT64 ``long``, FLOAT64
``double``, BOOL ``boolean``, STRING ``string``, BYTES ``bytes``, DATE ``int``/``date``, TIME
``long``/``time-micros``, TIMESTAMP ``long``/``timestamp-micros``, DATETIME ``string``/``datetime``,
NUMERIC and BIGNUMERIC ``bytes``/``decimal`` (38, 9 and 77, 38), JSON and GEOGRAPHY ``string``
with ``sqlType``; NULLABLE fields are ``["null", T]`` unions, REPEATED ones arrays, RECORDs
nested records. INTERVAL and RANGE have no Avro form here (the session is refused).

Record batches are sent uncompressed even when the request asks for LZ4/ZSTD buffer compression:
the client decodes either the same way, and in-process compression would only cost time.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

ARROW_METADATA: dict[str, dict[bytes, bytes]] = {
    "GEOGRAPHY": {b"ARROW:extension:name": b"google:sqlType:geography",
                  b"ARROW:extension:metadata": b'{"encoding": "WKT"}'},
    "DATETIME": {b"ARROW:extension:name": b"google:sqlType:datetime"},
    "JSON": {b"ARROW:extension:name": b"google:sqlType:json"},
}

_SCALARS: dict[str, Callable[[], pa.DataType]] = {
    "INTEGER": pa.int64, "FLOAT": pa.float64, "NUMERIC": lambda: pa.decimal128(38, 9),
    "BIGNUMERIC": lambda: pa.decimal256(76, 38), "BOOLEAN": pa.bool_, "STRING": pa.string,
    "BYTES": pa.binary, "DATE": pa.date32, "TIME": lambda: pa.time64("us"),
    "DATETIME": lambda: pa.timestamp("us"), "TIMESTAMP": lambda: pa.timestamp("us", tz="UTC"),
    "JSON": pa.string, "GEOGRAPHY": pa.string, "INTERVAL": pa.month_day_nano_interval,
}


class UnsupportedFormat(ValueError):
    """A field the requested data format cannot carry."""


# ------------------------------------------------------------------------------------------
# Arrow
# ------------------------------------------------------------------------------------------
def arrow_field(field: dict[str, Any]) -> pa.Field:
    """The Arrow field of one (normalised, legacy-named) BigQuery schema field."""
    mode = field.get("mode") or "NULLABLE"
    base = _arrow_base(field)
    return pa.field(field["name"], pa.list_(base) if mode == "REPEATED" else base,
                    nullable=mode == "NULLABLE", metadata=ARROW_METADATA.get(field["type"]))


def _arrow_base(field: dict[str, Any]) -> pa.DataType:
    ftype = field["type"]
    if ftype == "RECORD":
        return pa.struct([arrow_field(sub) for sub in field.get("fields") or []])
    if ftype == "RANGE":
        element = (field.get("rangeElementType") or {}).get("type", "DATE").upper()
        inner = _SCALARS.get({"INT64": "INTEGER"}.get(element, element), pa.date32)()
        return pa.struct([("start", inner), ("end", inner)])
    return _SCALARS.get(ftype, pa.string)()


def arrow_schema(fields: list[dict[str, Any]]) -> pa.Schema:
    return pa.schema([arrow_field(f) for f in fields])


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` (columns in ``schema``'s order) with ``schema``'s types.

    Columns already of the right type are kept as they are (no copy); others are cast (DuckDB's
    ``list<l: …>`` to ``list<item: …>``, stored BIGNUMERIC to decimal256, …). Fields nested in a
    struct are cast as nullable: a NULL record has NULL children, which the schema's non-nullable
    REPEATED/REQUIRED subfields would refuse, though they are fine on the wire (the record batch
    carries no nullability; the client reads it with the session's schema).
    """
    columns = []
    for index, field in enumerate(schema):
        column = table.column(index)
        target = _nested_nullable(field.type)
        if pa.types.is_string(column.type) and pa.types.is_timestamp(target):
            # a picosecond TIMESTAMP's text: its microseconds (Arrow timestamps stop at nanoseconds)
            import pyarrow.compute as pc

            column = pc.binary_join_element_wise(pc.utf8_slice_codeunits(column, 0, 26), "Z", "")
        if column.type != target:
            try:
                column = column.cast(target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                column = _cast_to_text(column, target)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=schema.names)


def _cast_to_text(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """A column whose result schema names STRING but whose data is not text (DuckDB's unnamed row
    values, a schema derivation gap): the values' Python text, as the REST encoder writes them."""
    if not pa.types.is_string(target):
        raise UnsupportedFormat(f"cannot serialize a {column.type} column as {target}")
    return pa.chunked_array([pa.array([None if v is None else str(v) for v in column.to_pylist()], type=target)])


def _nested_nullable(typ: pa.DataType) -> pa.DataType:
    if pa.types.is_struct(typ):
        return pa.struct([pa.field(f.name, _nested_nullable(f.type), nullable=True, metadata=f.metadata)
                          for f in typ])
    if pa.types.is_list(typ):
        return pa.list_(pa.field(typ.value_field.name, _nested_nullable(typ.value_type), nullable=True))
    return typ


def serialize_schema(schema: pa.Schema) -> bytes:
    return schema.serialize().to_pybytes()


def serialize_batch(batch: pa.RecordBatch) -> bytes:
    return batch.serialize().to_pybytes()


# ------------------------------------------------------------------------------------------
# Selected fields
# ------------------------------------------------------------------------------------------
Selection = dict[str, "Selection | None"]


def parse_selection(fields: list[dict[str, Any]], names: list[str]) -> tuple[Selection | None, list[str]]:
    """The selection tree of ``read_options.selected_fields`` (``None``: every field) and the
    names that match no field. ``"rec"`` selects a whole RECORD, ``"rec.sub"`` one subfield;
    names match case-insensitively, as BigQuery column names do."""
    if not names:
        return None, []
    tree: Selection = {}
    unknown: list[str] = []
    for name in names:
        parts = [p for p in name.strip().split(".")]
        if not parts or any(not p for p in parts):
            unknown.append(name)
            continue
        level_fields, node = fields, tree
        for depth, part in enumerate(parts):
            match = next((f for f in level_fields if f["name"].lower() == part.lower()), None)
            if match is None or (depth < len(parts) - 1 and match["type"] != "RECORD"):
                unknown.append(name)
                break
            key = match["name"]
            if depth == len(parts) - 1:
                node[key] = None  # the whole field
                break
            child = node.get(key, {})
            if child is None:  # already selected whole
                break
            node[key] = child
            level_fields, node = match.get("fields") or [], child
    return tree, unknown


def selected_schema(fields: list[dict[str, Any]], selection: Selection | None) -> list[dict[str, Any]]:
    """The schema of the selected fields, in the table's order (as the service returns them)."""
    if selection is None:
        return fields
    out = []
    for field in fields:
        if field["name"] not in selection:
            continue
        sub = selection[field["name"]]
        if sub is None:
            out.append(field)
        else:
            out.append({**field, "fields": selected_schema(field.get("fields") or [], sub)})
    return out


def project(table: pa.Table, fields: list[dict[str, Any]], selection: Selection | None) -> pa.Table:
    """The columns (and nested subfields) of ``table`` that ``selection`` keeps."""
    if selection is None:
        return table
    names, columns = [], []
    for index, field in enumerate(fields):
        if field["name"] not in selection:
            continue
        column = table.column(index)
        sub = selection[field["name"]]
        if sub is not None:
            column = pa.chunked_array([_project_array(chunk, field, sub) for chunk in column.chunks],
                                      type=None if column.num_chunks else column.type)
        names.append(field["name"])
        columns.append(column)
    return pa.Table.from_arrays(columns, names=names)


def _project_array(array: pa.Array, field: dict[str, Any], sub: Selection) -> pa.Array:
    if isinstance(array, pa.ListArray):
        values = _project_array(array.values, {**field, "mode": "NULLABLE"}, sub)
        return pa.ListArray.from_arrays(array.offsets, values, mask=array.is_null() if array.null_count else None)
    children, child_fields = [], []
    for index, child in enumerate(field.get("fields") or []):
        if child["name"] not in sub:
            continue
        values = array.field(index)
        if sub[child["name"]] is not None:
            values = _project_array(values, child, sub[child["name"]])  # type: ignore[arg-type]
        children.append(values)
        child_fields.append(pa.field(child["name"], values.type))
    mask = array.is_null() if array.null_count else None
    return pa.StructArray.from_arrays(children, fields=child_fields, mask=mask)


# ------------------------------------------------------------------------------------------
# Avro
# ------------------------------------------------------------------------------------------
def avro_schema(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """The Avro schema (JSON-able) the service sends for ``fields``."""
    return {"type": "record", "name": "__root__", "fields": [_avro_field(f, "__root__") for f in fields]}


def _avro_field(field: dict[str, Any], path: str) -> dict[str, Any]:
    mode = field.get("mode") or "NULLABLE"
    base = _avro_base(field, f"{path}_{field['name']}")
    if mode == "REPEATED":
        return {"name": field["name"], "type": {"type": "array", "items": base}}
    if mode == "REQUIRED":
        return {"name": field["name"], "type": base}
    return {"name": field["name"], "type": ["null", base]}


def _avro_base(field: dict[str, Any], path: str) -> Any:
    ftype = field["type"]
    simple = {"INTEGER": "long", "FLOAT": "double", "BOOLEAN": "boolean", "STRING": "string", "BYTES": "bytes"}
    if ftype in simple:
        return simple[ftype]
    if ftype == "DATE":
        return {"type": "int", "logicalType": "date"}
    if ftype == "TIME":
        return {"type": "long", "logicalType": "time-micros"}
    if ftype == "TIMESTAMP":
        return {"type": "long", "logicalType": "timestamp-micros"}
    if ftype == "DATETIME":
        return {"type": "string", "logicalType": "datetime"}
    if ftype == "NUMERIC":
        return {"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 9}
    if ftype == "BIGNUMERIC":
        return {"type": "bytes", "logicalType": "decimal", "precision": 77, "scale": 38}
    if ftype in ("JSON", "GEOGRAPHY"):
        return {"type": "string", "sqlType": ftype}
    if ftype == "RECORD":
        return {"type": "record", "name": path, "fields": [_avro_field(f, path) for f in field.get("fields") or []]}
    raise UnsupportedFormat(f"{ftype} field {field['name']} cannot be read in the AVRO format")


def avro_rows(batch: pa.RecordBatch, fields: list[dict[str, Any]], parsed_schema: Any) -> bytes:
    """``batch`` as concatenated schemaless Avro records (``AvroRows.serialized_binary_rows``)."""
    import fastavro

    convert = _record_converter(fields)
    out = io.BytesIO()
    write = fastavro.schemaless_writer
    for row in batch.to_pylist():
        write(out, parsed_schema, convert(row) if convert else row)
    return out.getvalue()


def parse_avro_schema(schema: dict[str, Any]) -> Any:
    import fastavro

    return fastavro.parse_schema(schema)


def avro_schema_json(schema: dict[str, Any]) -> str:
    return json.dumps(schema, separators=(",", ":"))


def _record_converter(fields: list[dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """Per-row conversion Avro needs (DATETIME values become ISO strings); None when none."""
    converters = {f["name"]: c for f in fields if (c := _value_converter(f)) is not None}
    if not converters:
        return None

    def convert(row: dict[str, Any]) -> dict[str, Any]:
        for name, fn in converters.items():
            value = row.get(name)
            if value is not None:
                row[name] = fn(value)
        return row

    return convert


def _value_converter(field: dict[str, Any]) -> Callable[[Any], Any] | None:
    ftype = field["type"]
    if ftype == "DATETIME":
        scalar: Callable[[Any], Any] | None = _datetime_text
    elif ftype == "RECORD":
        scalar = _record_converter(field.get("fields") or [])
    else:
        scalar = None
    if scalar is None:
        return None
    if field.get("mode") == "REPEATED":
        element = scalar
        return lambda values: [element(v) if v is not None else v for v in values]
    return scalar


def _datetime_text(value: Any) -> str:
    return value.isoformat()


def rest_arrow_page(rows: pa.Table, fields: list[dict[str, Any]], count: int) -> dict[str, Any]:
    """The ``arrowSchema``/``arrowRecordBatch`` of an ``ARROW``-format ``jobs.query`` response holding
    the first ``count`` rows (base64 IPC messages, as the JSON API carries bytes)."""
    import base64

    schema = arrow_schema(fields)
    page: dict[str, Any] = {"arrowSchema": {"serializedSchema": base64.b64encode(serialize_schema(schema)).decode()}}
    if count > 0:
        batch = conform(rows.slice(0, count), schema).combine_chunks().to_batches()[0]
        page["arrowRecordBatch"] = {"serializedRecordBatch": base64.b64encode(serialize_batch(batch)).decode(),
                                    "rowCount": str(batch.num_rows)}
    return page


def batches(table: pa.Table, start: int, stop: int, rows_per_batch: int) -> Iterator[pa.RecordBatch]:
    """Record batches of rows ``[start, stop)`` of ``table``, at most ``rows_per_batch`` rows each."""
    if stop <= start:
        return
    yield from table.slice(start, stop - start).to_batches(max_chunksize=max(1, rows_per_batch))
