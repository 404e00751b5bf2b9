"""BigQuery schemas and their mapping onto DuckDB and Arrow types.

Stored schemas use BigQuery's legacy type names as ``tables.get`` reports them (``INTEGER``,
``FLOAT``, ``BOOLEAN``, ``RECORD``); both spellings are accepted on input.

Mapping (BigQuery → DuckDB): INT64 → BIGINT, FLOAT64 → DOUBLE, NUMERIC → DECIMAL(38,9),
BIGNUMERIC → VARCHAR (its exact decimal text: DuckDB decimals stop at 38 digits; see
:mod:`emulator.bigquery.bignumeric`), BOOL → BOOLEAN, STRING → VARCHAR, BYTES → BLOB, DATE → DATE,
TIME → TIME, DATETIME → TIMESTAMP, TIMESTAMP → TIMESTAMPTZ (session time zone UTC), JSON → JSON,
GEOGRAPHY → VARCHAR (WKT text; no spatial functions), INTERVAL → INTERVAL,
RECORD/STRUCT → STRUCT, REPEATED → LIST.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.bigquery.errors import Invalid

_CANONICAL = {
    "INT64": "INTEGER", "INTEGER": "INTEGER", "INT": "INTEGER", "SMALLINT": "INTEGER",
    "BIGINT": "INTEGER", "TINYINT": "INTEGER", "BYTEINT": "INTEGER",
    "FLOAT64": "FLOAT", "FLOAT": "FLOAT",
    "NUMERIC": "NUMERIC", "DECIMAL": "NUMERIC",
    "BIGNUMERIC": "BIGNUMERIC", "BIGDECIMAL": "BIGNUMERIC",
    "BOOL": "BOOLEAN", "BOOLEAN": "BOOLEAN",
    "STRING": "STRING", "BYTES": "BYTES", "DATE": "DATE", "TIME": "TIME",
    "DATETIME": "DATETIME", "TIMESTAMP": "TIMESTAMP", "JSON": "JSON",
    "GEOGRAPHY": "GEOGRAPHY", "INTERVAL": "INTERVAL",
    "RECORD": "RECORD", "STRUCT": "RECORD",
    "RANGE": "RANGE",
}

_MODES = ("NULLABLE", "REQUIRED", "REPEATED")

_SCALAR_DUCKDB = {
    "INTEGER": "BIGINT", "FLOAT": "DOUBLE", "NUMERIC": "DECIMAL(38,9)", "BIGNUMERIC": "VARCHAR",
    "BOOLEAN": "BOOLEAN", "STRING": "VARCHAR", "BYTES": "BLOB", "DATE": "DATE", "TIME": "TIME",
    "DATETIME": "TIMESTAMP", "TIMESTAMP": "TIMESTAMPTZ", "JSON": "JSON", "GEOGRAPHY": "VARCHAR",
    "INTERVAL": "INTERVAL",
}


def canonical_type(name: str) -> str:
    """BigQuery's legacy spelling of a type name, or :class:`Invalid` for an unknown one."""
    key = str(name).upper().strip()
    try:
        return _CANONICAL[key]
    except KeyError:
        raise Invalid(f"Invalid value for type: {name} is not a valid value") from None


def normalise_schema(fields: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Validate REST schema fields and return them with canonical types and explicit modes."""
    if not fields:
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for raw in fields:
        if not isinstance(raw, dict) or not raw.get("name"):
            raise Invalid("Invalid field: every schema field needs a name")
        name = str(raw["name"])
        if name.lower() in seen:
            raise Invalid(f"Field {name} already exists in schema")
        seen.add(name.lower())
        ftype = canonical_type(raw.get("type", "STRING"))
        mode = str(raw.get("mode") or "NULLABLE").upper()
        if mode not in _MODES:
            raise Invalid(f"Invalid value for mode: {raw.get('mode')} is not a valid value")
        field: dict[str, Any] = {"name": name, "type": ftype, "mode": mode}
        if ftype == "RECORD":
            sub = raw.get("fields")
            if not sub:
                raise Invalid(f"Field {name} is type RECORD but has no schema")
            field["fields"] = normalise_schema(sub)
        if raw.get("description"):
            field["description"] = raw["description"]
        if ftype == "RANGE" and raw.get("rangeElementType"):
            field["rangeElementType"] = raw["rangeElementType"]
        field.update(_field_attributes(raw, ftype, name))
        out.append(field)
    return out


#: Schema field attributes kept as given (strings and objects BigQuery stores and returns unchanged).
_KEPT_ATTRIBUTES = ("defaultValueExpression", "roundingMode", "collation", "foreignTypeDefinition")
#: int64 attributes: BigQuery returns them as decimal strings.
_INT_ATTRIBUTES = {"maxLength": ("STRING", "BYTES"), "precision": ("NUMERIC", "BIGNUMERIC"),
                   "scale": ("NUMERIC", "BIGNUMERIC"), "timestampPrecision": ("TIMESTAMP",)}
#: TIMESTAMP precisions BigQuery accepts: microseconds (the default) and picoseconds.
_TIMESTAMP_PRECISIONS = (6, 12)


def _field_attributes(raw: dict[str, Any], ftype: str, name: str) -> dict[str, Any]:
    """The optional attributes of a REST schema field that BigQuery stores and returns.

    ``policyTags`` without names and ``dataPolicies``/attributes set to null are dropped (BigQuery
    then leaves the key out of the resource, which is how clients clear them); ``maxLength``,
    ``precision``, ``scale`` and ``timestampPrecision`` are int64 and come back as strings.
    """
    out: dict[str, Any] = {}
    for key in _KEPT_ATTRIBUTES:
        if raw.get(key) not in (None, ""):
            out[key] = raw[key]
    tags = raw.get("policyTags")
    if isinstance(tags, dict) and tags.get("names"):
        out["policyTags"] = {"names": [str(n) for n in tags["names"]]}
    if raw.get("dataPolicies"):
        out["dataPolicies"] = raw["dataPolicies"]
    for key, types in _INT_ATTRIBUTES.items():
        value = raw.get(key)
        if value is None or value == "":
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise Invalid(f"Invalid value for {key}: {value} is not a valid value") from None
        if ftype not in types:
            raise Invalid(f"{key} is not supported for field {name} of type {ftype}")
        if key == "timestampPrecision" and number not in _TIMESTAMP_PRECISIONS:
            raise Invalid(f"Invalid timestamp precision {number} for field {name}: expected 6 or 12")
        if key == "maxLength" and number <= 0:
            raise Invalid(f"Invalid maxLength {number} for field {name}: it must be positive")
        out[key] = str(number)
    if "precision" in out or "scale" in out:
        _check_decimal_parameters(name, ftype, int(out.get("precision", 0) or 0), out.get("scale"))
    return out


def _check_decimal_parameters(name: str, ftype: str, precision: int, scale_text: str | None) -> None:
    """NUMERIC(P[, S]): 0 <= S <= 9, max(1, S) <= P <= S + 29; BIGNUMERIC: S <= 38, P <= S + 38."""
    scale = int(scale_text) if scale_text is not None else 0
    max_scale, span = (9, 29) if ftype == "NUMERIC" else (38, 38)
    if not 0 <= scale <= max_scale or not max(1, scale) <= precision <= scale + span:
        raise Invalid(f"Invalid {ftype} parameters for field {name}: precision {precision}, scale {scale}")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def field_duckdb_type(field: dict[str, Any]) -> str:
    """DuckDB column type for a (normalised) schema field."""
    ftype = field["type"]
    if ftype == "RECORD":
        inner = ", ".join(f"{quote_ident(f['name'])} {field_duckdb_type(f)}" for f in field["fields"])
        base = f"STRUCT({inner})"
    elif ftype == "RANGE":
        elem = _SCALAR_DUCKDB[range_element(field)]
        base = f'STRUCT("start" {elem}, "end" {elem})'
    elif is_pico(field):
        base = "VARCHAR"  # picoseconds: the canonical text (DuckDB timestamps stop at nanoseconds)
    else:
        base = _SCALAR_DUCKDB[ftype]
    return f"{base}[]" if field.get("mode") == "REPEATED" else base


def is_pico(field: dict[str, Any]) -> bool:
    """A TIMESTAMP field of picosecond precision (``timestampPrecision`` 12).

    Its values are stored as their canonical text ``YYYY-MM-DDTHH:MM:SS.ffffffffffffZ`` (UTC, twelve
    fractional digits): SQL sees such a column as a STRING (a documented gap); list_rows, insertAll and
    loads handle it as the TIMESTAMP it is.
    """
    return field.get("type") == "TIMESTAMP" and str(field.get("timestampPrecision") or "") == "12"


#: The element types of RANGE; a RANGE is stored as STRUCT("start" T, "end" T) (NULL: unbounded).
RANGE_ELEMENTS = ("DATE", "DATETIME", "TIMESTAMP")
_RANGE_BY_DUCKDB = {"date": "DATE", "timestamp": "DATETIME", "timestamp with time zone": "TIMESTAMP"}


def range_element(field: dict[str, Any]) -> str:
    """The element type of a RANGE field (DATE when not given)."""
    element = canonical_type((field.get("rangeElementType") or {}).get("type", "DATE"))
    if element not in RANGE_ELEMENTS:
        raise Invalid(f"RANGE element type must be DATE, DATETIME or TIMESTAMP, not {element}")
    return element


def table_ddl_columns(schema: list[dict[str, Any]], default_sql: Callable[[str], str] | None = None) -> str:
    """Column list for ``CREATE TABLE``: REQUIRED fields become NOT NULL; ``default_sql`` translates a
    field's ``defaultValueExpression`` into the column's DEFAULT."""
    parts = []
    for field in schema:
        col = f"{quote_ident(field['name'])} {field_duckdb_type(field)}"
        if field.get("mode") == "REQUIRED":
            col += " NOT NULL"
        if default_sql is not None and field.get("defaultValueExpression"):
            col += f" DEFAULT ({default_sql(field['defaultValueExpression'])})"
        parts.append(col)
    return ", ".join(parts)


def arrow_type(field: dict[str, Any]) -> Any:
    """The Arrow type rows are staged in before DuckDB casts them into a table of this schema.

    INTERVAL is staged as DuckDB's interval text (``"14 months 3 days 5 microseconds"``): Arrow's
    ``month_day_nano_interval`` counts nanoseconds in an int64 and cannot hold BigQuery's extremes.
    """
    import pyarrow as pa

    ftype = field["type"]
    if ftype == "RECORD":
        base = pa.struct([pa.field(f["name"], arrow_type(f)) for f in field["fields"]])
    elif ftype == "RANGE":
        element = arrow_type({"type": canonical_type((field.get("rangeElementType") or {}).get("type", "DATE"))})
        base = pa.struct([pa.field("start", element), pa.field("end", element)])
    else:
        base = {
            "INTEGER": pa.int64(), "FLOAT": pa.float64(), "NUMERIC": pa.decimal128(38, 9),
            "BIGNUMERIC": pa.string(), "BOOLEAN": pa.bool_(), "STRING": pa.string(),
            "BYTES": pa.binary(), "DATE": pa.date32(), "TIME": pa.time64("us"),
            "DATETIME": pa.timestamp("us"), "TIMESTAMP": pa.timestamp("us", tz="UTC"),
            "JSON": pa.string(), "GEOGRAPHY": pa.string(), "INTERVAL": pa.string(),
        }.get(ftype, pa.string())
        if is_pico(field):
            base = pa.string()
        if ftype == "RANGE":
            element = arrow_type({"type": range_element(field), "mode": "NULLABLE"})
            base = pa.struct([pa.field("start", element), pa.field("end", element)])
    return pa.list_(base) if field.get("mode") == "REPEATED" else base


def arrow_schema(schema: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    return pa.schema([pa.field(f["name"], arrow_type(f)) for f in schema])


def field_from_duckdb(name: str, dtype: Any) -> dict[str, Any]:
    """A schema field for a DuckDB result column (``DuckDBPyType``)."""
    type_id = dtype.id
    if type_id == "list" or type_id == "array":
        child = dtype.child
        inner = field_from_duckdb(name, child)
        if inner["mode"] == "REPEATED":  # BigQuery has no ARRAY<ARRAY>; keep the outer level
            inner["mode"] = "REPEATED"
        else:
            inner["mode"] = "REPEATED"
        return inner
    if type_id == "struct":
        children_types = list(dtype.children)
        if [str(c).lower() for c, _ in children_types] == ["start", "end"] \
                and children_types[0][1].id == children_types[1][1].id in _RANGE_BY_DUCKDB:
            # how RANGE values are held (a STRUCT with exactly these fields reads back as RANGE)
            return {"name": name, "type": "RANGE", "mode": "NULLABLE",
                    "rangeElementType": {"type": _RANGE_BY_DUCKDB[children_types[0][1].id]}}
        children = [field_from_duckdb(str(cname), ctype) for cname, ctype in dtype.children]
        return {"name": name, "type": "RECORD", "mode": "NULLABLE", "fields": children}
    return {"name": name, "type": scalar_from_duckdb(dtype), "mode": "NULLABLE"}


def scalar_from_duckdb(dtype: Any) -> str:
    text = str(dtype).upper()
    type_id = dtype.id
    if text == "JSON":
        return "JSON"
    if type_id in ("bigint", "integer", "smallint", "tinyint", "hugeint", "ubigint", "uinteger",
                   "usmallint", "utinyint", "uhugeint"):
        return "INTEGER"
    if type_id in ("double", "float"):
        return "FLOAT"
    if type_id == "decimal":
        return "NUMERIC"
    if type_id == "boolean":
        return "BOOLEAN"
    if type_id == "blob":
        return "BYTES"
    if type_id == "date":
        return "DATE"
    if type_id in ("time", "time with time zone"):
        return "TIME"
    if type_id in ("timestamp", "timestamp_ns", "timestamp_ms", "timestamp_s"):
        return "DATETIME"
    if type_id == "timestamp with time zone":
        return "TIMESTAMP"
    if type_id == "interval":
        return "INTERVAL"
    return "STRING"


def needs_cast(dtype: Any) -> str | None:
    """DuckDB type to cast a result column to so it carries BigQuery's type, or None."""
    type_id = dtype.id
    if type_id in ("hugeint", "ubigint", "uhugeint", "integer", "smallint", "tinyint", "uinteger",
                   "usmallint", "utinyint"):
        return "BIGINT"
    if type_id == "float":
        return "DOUBLE"
    if type_id == "decimal":
        text = str(dtype).upper()
        return None if text == "DECIMAL(38,9)" else "DECIMAL(38,9)"
    if type_id in ("timestamp_ns", "timestamp_ms", "timestamp_s"):
        return "TIMESTAMP"
    if type_id == "uuid":
        return "VARCHAR"
    if type_id in ("list", "array"):
        inner = needs_cast(dtype.child)
        if inner is not None:
            return f"{inner}[]"
        return "" if type_id == "array" else None
    if type_id == "struct":
        changed = False
        parts = []
        for cname, ctype in dtype.children:
            cast = needs_cast(ctype)
            if cast:
                changed = True
            parts.append(f"{quote_ident(str(cname))} {cast or ctype}")
        return f"STRUCT({', '.join(parts)})" if changed else None
    return None


def schema_from_arrow(arrow: Any) -> list[dict[str, Any]]:
    """Autodetected schema for an Arrow schema (load jobs with autodetect, new tables)."""
    import pyarrow as pa

    def convert(name: str, typ: Any) -> dict[str, Any]:
        if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
            inner = convert(name, typ.value_type)
            inner["mode"] = "REPEATED"
            return inner
        if pa.types.is_struct(typ):
            return {"name": name, "type": "RECORD", "mode": "NULLABLE",
                    "fields": [convert(typ.field(i).name, typ.field(i).type) for i in range(typ.num_fields)]}
        if pa.types.is_boolean(typ):
            t = "BOOLEAN"
        elif pa.types.is_integer(typ):
            t = "INTEGER"
        elif pa.types.is_floating(typ):
            t = "FLOAT"
        elif pa.types.is_decimal(typ):
            t = "NUMERIC" if typ.precision <= 38 and typ.scale <= 9 else "BIGNUMERIC"
        elif pa.types.is_timestamp(typ):
            t = "TIMESTAMP" if typ.tz is not None else "DATETIME"
        elif pa.types.is_date(typ):
            t = "DATE"
        elif pa.types.is_time(typ):
            t = "TIME"
        elif pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
            t = "BYTES"
        else:
            t = "STRING"
        return {"name": name, "type": t, "mode": "NULLABLE"}

    return [convert(f.name, f.type) for f in arrow]


def find_field(schema: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    lowered = name.lower()
    for field in schema:
        if field["name"].lower() == lowered:
            return field
    return None
