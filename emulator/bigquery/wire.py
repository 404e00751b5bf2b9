"""BigQuery's JSON wire formats: f/v result rows, insertAll/NDJSON values, query parameters.

Result rows are encoded inside DuckDB (one ``json_object`` expression per row, built from the
BigQuery schema), which is an order of magnitude faster than a Python per-cell encoder. Cells
follow BigQuery: scalars are strings, NULL is ``{"v": null}``, a NULL array is ``[]``, RECORDs
are ``{"f": [...]}``, TIMESTAMP is int64 epoch microseconds when the client asks for
``formatOptions.useInt64Timestamp`` and float seconds in scientific notation otherwise.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
import math
import re
from typing import Any

from emulator.bigquery import bignumeric
from emulator.bigquery.intervals import interval_sql, parse_interval
from emulator.bigquery.types import canonical_type, quote_ident


# ------------------------------------------------------------------------------------------
# Result rows (DuckDB → f/v JSON)
# ------------------------------------------------------------------------------------------
def _scalar_expr(expr: str, ftype: str, int64_ts: bool) -> str:
    if ftype in ("INTEGER", "STRING", "JSON", "GEOGRAPHY", "DATE"):
        return f"CAST({expr} AS VARCHAR)"
    if ftype == "FLOAT":
        return (f"CASE WHEN isnan({expr}) THEN 'NaN' WHEN {expr} = 'inf'::DOUBLE THEN 'Infinity' "
                f"WHEN {expr} = '-inf'::DOUBLE THEN '-Infinity' ELSE CAST({expr} AS VARCHAR) END")
    if ftype == "BIGNUMERIC":
        return f"{bignumeric.TEXT_FUNCTION}(CAST({expr} AS VARCHAR))"
    if ftype == "NUMERIC":
        return f"regexp_replace(regexp_replace(CAST({expr} AS VARCHAR), '(\\.[0-9]*?)0+$', '\\1'), '\\.$', '')"
    if ftype == "BOOLEAN":
        return f"CASE WHEN {expr} THEN 'true' WHEN NOT {expr} THEN 'false' END"
    if ftype == "BYTES":
        return f"to_base64({expr})"
    if ftype == "TIME":
        return f"strftime(DATE '1970-01-01' + {expr}, '%H:%M:%S.%f')"
    if ftype == "DATETIME":
        return f"strftime({expr}, '%Y-%m-%dT%H:%M:%S.%f')"
    if ftype == "TIMESTAMP":
        if int64_ts:
            return f"CAST(epoch_us({expr}) AS VARCHAR)"
        return f"printf('%.6E', epoch_us({expr}) / 1000000.0)"
    if ftype == "INTERVAL":
        return interval_sql(expr)
    return f"CAST({expr} AS VARCHAR)"


def _range_text(expr: str, field: dict[str, Any], int64_ts: bool) -> str:
    """``[start, end)`` with ``UNBOUNDED`` for a NULL bound, as BigQuery writes a RANGE."""
    element = canonical_type((field.get("rangeElementType") or {}).get("type", "DATE"))
    start = _scalar_expr(f"{expr}.{quote_ident('start')}", element, int64_ts)
    end = _scalar_expr(f"{expr}.{quote_ident('end')}", element, int64_ts)
    return (f"CASE WHEN {expr} IS NULL THEN NULL ELSE '[' || coalesce({start}, 'UNBOUNDED') || ', ' || "
            f"coalesce({end}, 'UNBOUNDED') || ')' END")


#: Types whose text never needs JSON escaping (digits, signs, dates, base64...).
_PLAIN_TEXT = {"INTEGER", "FLOAT", "NUMERIC", "BIGNUMERIC", "BOOLEAN", "BYTES", "DATE", "TIME", "DATETIME",
               "TIMESTAMP", "INTERVAL"}


def _cell(expr: str, field: dict[str, Any], int64_ts: bool, depth: int) -> str:
    """SQL (VARCHAR, never NULL) for one ``{"v": ...}`` cell of a non-repeated value.

    Built by string concatenation, which DuckDB does about twice as fast as ``json_object``;
    ``'a' || NULL`` is NULL, so ``coalesce`` turns a NULL value into ``{"v":null}``.
    """
    if field["type"] == "RECORD":
        parts = []
        for sub in field["fields"]:
            sub_expr = f"{expr}.{quote_ident(sub['name'])}"
            if sub.get("mode") == "REPEATED":
                parts.append(_repeated_cell(sub_expr, sub, int64_ts, depth + 1))
            else:
                parts.append(_cell(sub_expr, sub, int64_ts, depth + 1))
        inner = _concat(["'{\"v\":{\"f\":['", *_commas(parts), "']}}'"])
        return f"""CASE WHEN {expr} IS NULL THEN '{{"v":null}}' ELSE {inner} END"""
    if field["type"] == "TIMESTAMP" and str(field.get("timestampPrecision") or "") == "12":
        # picoseconds are held as their text: by default the client gets the (truncated) microseconds
        micros = f"CAST(substr({expr}, 1, 26) || 'Z' AS TIMESTAMPTZ)"
        return f"""coalesce('{{"v":"' || {_scalar_expr(micros, "TIMESTAMP", int64_ts)} || '"}}', '{{"v":null}}')"""
    if field["type"] == "RANGE":
        text = _range_text(expr, field, int64_ts)
    else:
        text = _scalar_expr(expr, field["type"], int64_ts)
    if field["type"] in _PLAIN_TEXT:
        return f"""coalesce('{{"v":"' || {text} || '"}}', '{{"v":null}}')"""
    return f"""coalesce('{{"v":' || CAST(to_json({text}) AS VARCHAR) || '}}', '{{"v":null}}')"""


def _repeated_cell(expr: str, field: dict[str, Any], int64_ts: bool, depth: int) -> str:
    """A REPEATED cell: ``{"v":[{"v":...},...]}``; a NULL array is ``[]`` as in BigQuery."""
    var = f"x{depth}"
    element = _cell(var, {**field, "mode": "NULLABLE"}, int64_ts, depth + 1)
    listed = f"array_to_string(list_transform({expr}, lambda {var}: {element}), ',')"
    return f"""'{{"v":[' || coalesce({listed}, '') || ']}}'"""


def _commas(cells: list[str]) -> list[str]:
    out: list[str] = []
    for cell in cells:
        if out:
            out.append("','")
        out.append(cell)
    return out


def _concat(parts: list[str]) -> str:
    """``concat(a, b, …)``: one call, where ``a || b || …`` nests one level per cell (DuckDB refuses
    expressions deeper than 1,000 levels: a 10,000-column row). The cells are never NULL."""
    return f"concat({', '.join(parts)})"


def row_encoder_sql(schema: list[dict[str, Any]], relation: str, int64_ts: bool = True) -> str:
    """SQL selecting one f/v JSON text per row of ``relation`` whose columns follow ``schema``."""
    cells = []
    for field in schema:
        col = quote_ident(field["name"])
        if field.get("mode") == "REPEATED":
            cells.append(_repeated_cell(col, field, int64_ts, 0))
        else:
            cells.append(_cell(col, field, int64_ts, 0))
    if not cells:
        return f"SELECT '{{\"f\":[]}}' FROM {relation}"
    row = _concat(["'{\"f\":['", *_commas(cells), "']}'"])
    return f"SELECT {row} FROM {relation}"


# ------------------------------------------------------------------------------------------
# Incoming JSON values (insertAll rows, NDJSON loads) → Python values for Arrow
# ------------------------------------------------------------------------------------------
class ValueError_(Exception):
    """A cell that cannot be converted; ``message`` follows BigQuery's insertAll wording."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(message)
        self.location = location
        self.message = message


_INT_RE = re.compile(r"^[+-]?\d+$")
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$"
)
_TS_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")
_NUMERIC_MAX = decimal.Decimal("99999999999999999999999999999.999999999")
_WIDE = decimal.Context(prec=80)
_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)


def _micro(frac: str | None) -> int:
    if not frac:
        return 0
    return int((frac + "000000")[:6])


def _bad(location: str, what: str, value: Any) -> ValueError_:
    return ValueError_(location, f"Cannot convert value to {what} (bad value): {_show(value)}")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def convert_value(value: Any, field: dict[str, Any], location: str) -> Any:
    """Convert one JSON value to the Python value stored for ``field`` (not repeated)."""
    ftype = field["type"]
    if value is None:
        return None
    if ftype == "INTEGER":
        if isinstance(value, bool):
            raise _bad(location, "integer", value)
        if isinstance(value, int):
            result = value
        elif isinstance(value, float) and value.is_integer():
            result = int(value)
        elif isinstance(value, str) and _INT_RE.match(value.strip()):
            result = int(value.strip())
        else:
            raise _bad(location, "integer", value)
        if not -(2**63) <= result < 2**63:
            raise ValueError_(location, f"Value out of range for INT64: {value}")
        return result
    if ftype == "FLOAT":
        if isinstance(value, bool):
            raise _bad(location, "floating point", value)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            text = value.strip()
            special = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf,
                       "-inf": -math.inf}
            if text.lower() in special:
                return special[text.lower()]
            try:
                return float(text)
            except ValueError:
                pass
        raise _bad(location, "floating point", value)
    if ftype == "BIGNUMERIC":
        if isinstance(value, bool):
            raise _bad(location, "numeric", value)
        try:
            return bignumeric.text(bignumeric.parse(value))
        except ValueError:
            raise ValueError_(location, f"Invalid BIGNUMERIC value: {_show(value)}") from None
    if ftype == "NUMERIC":
        if isinstance(value, bool):
            raise _bad(location, "numeric", value)
        try:
            number = decimal.Decimal(str(value).strip()) if not isinstance(value, float) else decimal.Decimal(repr(value))
        except decimal.InvalidOperation:
            raise _bad(location, "numeric", value) from None
        # copy_abs: abs() would round to the context's 28 digits (NUMERIC's maximum has 38)
        if not number.is_finite() or number.copy_abs() > _NUMERIC_MAX:
            raise ValueError_(location, f"Invalid NUMERIC value: {_show(value)}")
        return number.quantize(decimal.Decimal("0.000000001"), rounding=decimal.ROUND_HALF_EVEN,
                               context=_WIDE)
    if ftype == "BOOLEAN":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise _bad(location, "boolean", value)
    if ftype in ("STRING", "GEOGRAPHY"):
        if isinstance(value, dict | list):
            raise ValueError_(location, f"This field: {field['name']} is not a record.") if isinstance(
                value, dict) else ValueError_(location, f"Array specified for non-repeated field: {field['name']}.")
        if isinstance(value, bool):
            return "true" if value else "false"
        if ftype == "GEOGRAPHY":
            return _geography(str(value), location)
        return str(value)
    if ftype == "JSON":
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                raise ValueError_(location, f"Invalid JSON value: {value}") from None
            return json.dumps(parsed, separators=(",", ":"))
        return json.dumps(value, separators=(",", ":"))
    if ftype == "BYTES":
        if not isinstance(value, str):
            raise _bad(location, "bytes", value)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            try:
                return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            except (binascii.Error, ValueError):
                raise ValueError_(location, f"Could not decode base64 string to bytes. Field: {field['name']}; Value: {value}") from None
    if ftype == "DATE":
        if isinstance(value, str):
            match = _DATETIME_RE.match(value.strip())
            if match and match.group(4) is None:
                try:
                    return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
                except ValueError:
                    pass
        raise ValueError_(location, f"Invalid date: '{_show(value)}'")
    if ftype == "TIME":
        if isinstance(value, str):
            match = _TIME_RE.match(value.strip())
            if match:
                try:
                    return dt.time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0),
                                   _micro(match.group(4)))
                except ValueError:
                    pass
        raise ValueError_(location, f"Invalid time string \"{_show(value)}\"")
    if ftype == "DATETIME":
        if isinstance(value, str):
            match = _DATETIME_RE.match(value.strip())
            if match:
                try:
                    return dt.datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)),
                                       int(match.group(4) or 0), int(match.group(5) or 0),
                                       int(match.group(6) or 0), _micro(match.group(7)))
                except ValueError:
                    pass
        raise ValueError_(location, f"Invalid datetime string \"{_show(value)}\"")
    if ftype == "TIMESTAMP" and str(field.get("timestampPrecision") or "") == "12":
        return pico_text(value, location)
    if ftype == "TIMESTAMP":
        return _timestamp(value, location)
    if ftype == "RECORD":
        if not isinstance(value, dict):
            raise ValueError_(location, f"This field: {field['name']} is not a record.")
        return convert_record(value, field["fields"], location, ignore_unknown=False)
    if ftype == "RANGE":
        return _range_value(value, field, location)
    if ftype == "INTERVAL":
        if isinstance(value, str):
            parsed = parse_interval(value)
            if parsed is not None:
                return parsed.duckdb_text()
        raise ValueError_(location, f"Invalid interval value: {_show(value)}")
    return value


_RANGE_RE = re.compile(r"^\[\s*([^,]*?)\s*,\s*([^,]*?)\s*\)$")


def _range_value(value: Any, field: dict[str, Any], location: str) -> dict[str, Any]:
    """A RANGE cell: BigQuery's text ``[start, end)`` (``UNBOUNDED`` or NULL for an open bound) or an
    object with ``start``/``end``; stored as a struct of its two bounds."""
    element = {"name": field["name"], "type": canonical_type((field.get("rangeElementType") or {}).get("type", "DATE")),
               "mode": "NULLABLE"}
    if isinstance(value, dict):
        bounds = [value.get("start"), value.get("end")]
    elif isinstance(value, str) and (match := _RANGE_RE.match(value.strip())):
        bounds = [match.group(1), match.group(2)]
    else:
        raise ValueError_(location, f"Invalid RANGE value: {_show(value)}")
    out = []
    for bound in bounds:
        if bound is None or (isinstance(bound, str) and bound.strip().upper() in ("UNBOUNDED", "NULL")):
            out.append(None)
        else:
            out.append(convert_value(bound, element, location))
    if out[0] is not None and out[1] is not None and out[0] >= out[1]:
        raise ValueError_(location, f"Invalid RANGE value: {_show(value)}: the start must be before the end")
    return {"start": out[0], "end": out[1]}


def _geography(text: str, location: str) -> str:
    """A GEOGRAPHY value as BigQuery stores it: WKT validated and written its way (``POINT(-135 90)``
    for ``POINT(-135.0000 90.0000)``)."""
    from emulator.bigquery.sql_errors import GoogleSQLError
    from emulator.bigquery.sql_geography import st_geogfromtext

    try:
        return st_geogfromtext(text) or text
    except GoogleSQLError as exc:
        raise ValueError_(location, f"Invalid geography value: {_show(text)}: {exc}") from None


_PICO_RE = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2})(?:[T ](\d{1,2}:\d{2}(?::\d{2})?)(?:\.(\d{1,12}))?)?"
    r"\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2})?)?$", re.IGNORECASE)


def pico_text(value: Any, location: str) -> str:
    """The canonical text of a picosecond TIMESTAMP: ``YYYY-MM-DDTHH:MM:SS.ffffffffffffZ`` in UTC."""
    fraction = ""
    if isinstance(value, str):
        match = _PICO_RE.match(value.strip())
        if match is None:
            raise ValueError_(location, f"Invalid timestamp: '{_show(value)}'")
        day, clock, fraction, zone = match.groups()
        # the microsecond part through the usual parser (zone, validity), the rest kept as digits
        fraction = fraction or ""
        micros_text = f"{day} {clock or '00:00:00'}" + (f".{fraction[:6]}" if fraction else "") + (zone or "")
        instant = _timestamp(micros_text, location)
    else:
        instant = _timestamp(value, location)
    micros = instant.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return micros + fraction[6:].ljust(6, "0") + "Z"


def _timestamp(value: Any, location: str) -> dt.datetime:
    if isinstance(value, bool):
        raise ValueError_(location, f"Invalid timestamp: '{_show(value)}'")
    if isinstance(value, int | float):
        seconds = float(value)
        return _EPOCH + dt.timedelta(microseconds=round(seconds * 1_000_000))
    if isinstance(value, str):
        text = value.strip()
        try:
            return _EPOCH + dt.timedelta(microseconds=round(float(text) * 1_000_000))
        except ValueError:
            pass
        match = _TS_RE.match(text)
        if match:
            try:
                naive = dt.datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)),
                                    int(match.group(4) or 0), int(match.group(5) or 0),
                                    int(match.group(6) or 0), _micro(match.group(7)))
            except ValueError:
                raise ValueError_(location, f"Invalid timestamp: '{text}'") from None
            zone = match.group(8)
            offset = dt.timedelta(0)
            if zone and zone.upper() not in ("Z", "UTC"):
                sign = -1 if zone[0] == "-" else 1
                digits = zone[1:].replace(":", "")
                hours = int(digits[:-2] or 0) if len(digits) > 2 else int(digits)
                minutes = int(digits[-2:]) if len(digits) > 2 else 0
                offset = sign * dt.timedelta(hours=hours, minutes=minutes)
            return (naive - offset).replace(tzinfo=_UTC)
    raise ValueError_(location, f"Invalid timestamp: '{_show(value)}'")


def convert_field(value: Any, field: dict[str, Any], location: str) -> Any:
    if field.get("mode") == "REPEATED":
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError_(location, f"Expected array for repeated field: {field['name']}.")
        element = {**field, "mode": "NULLABLE"}
        out = []
        for item in value:
            if item is None:
                raise ValueError_(location, f"Array specified for repeated field {field['name']} contains a null element.")
            out.append(convert_value(item, element, location))
        return out
    if isinstance(value, list) and field["type"] != "JSON":
        raise ValueError_(location, f"Array specified for non-repeated field: {field['name']}.")
    converted = convert_value(value, field, location)
    if converted is None and field.get("mode") == "REQUIRED":
        raise ValueError_(location, f"Missing required field: {field['name']}.")
    limit = field.get("maxLength")
    if limit is not None and converted is not None and len(converted) > int(limit):
        raise ValueError_(location, f"Field {field['name']}: {field['type']}({limit}) has maximum length {limit} "
                                    f"but got a value with length {len(converted)}")
    return converted


def convert_record(
    row: dict[str, Any], schema: list[dict[str, Any]], prefix: str = "", *, ignore_unknown: bool = False
) -> dict[str, Any]:
    """Convert one JSON object to stored values; raise :class:`ValueError_` on the first bad cell."""
    by_name = {f["name"].lower(): f for f in schema}
    out: dict[str, Any] = {}
    for key, value in row.items():
        field = by_name.get(str(key).lower())
        location = f"{prefix}.{key}" if prefix else str(key)
        if field is None:
            if ignore_unknown:
                continue
            raise ValueError_(location, "no such field.")
        out[field["name"]] = convert_field(value, field, location)
    for field in schema:
        if field["name"] not in out:
            if field.get("mode") == "REQUIRED":
                location = f"{prefix}.{field['name']}" if prefix else field["name"]
                raise ValueError_(location, f"Missing required field: {field['name']}.")
            out[field["name"]] = [] if field.get("mode") == "REPEATED" else None
    return out


# ------------------------------------------------------------------------------------------
# Query parameters (REST → DuckDB bind values)
# ------------------------------------------------------------------------------------------
def parameter_value(ptype: dict[str, Any], pvalue: dict[str, Any] | None, name: str = "") -> Any:
    """Python value for a REST query parameter (``parameterType`` + ``parameterValue``)."""
    from emulator.bigquery.errors import Invalid

    if pvalue is None:
        return None
    kind = canonical_type(ptype.get("type", "STRING")) if ptype.get("type") not in ("ARRAY",) else "ARRAY"
    if kind == "ARRAY":
        values = pvalue.get("arrayValues")
        if values is None:
            return [] if "value" not in pvalue else None
        return [parameter_value(ptype.get("arrayType") or {}, v, name) for v in values]
    if kind == "RANGE":  # a STRUCT of start and end (NULL: unbounded), as RANGE columns are stored
        element = ptype.get("rangeElementType") or {"type": "DATE"}
        bounds = pvalue.get("rangeValue")
        if bounds is None:
            return None
        return {key: parameter_value(element, bounds.get(key) or {}, name) for key in ("start", "end")}
    if kind == "RECORD":
        struct_values = pvalue.get("structValues") or {}
        out = {}
        for member in ptype.get("structTypes") or []:
            out[member.get("name")] = parameter_value(member.get("type") or {}, struct_values.get(member.get("name")), name)
        return out
    raw = pvalue.get("value")
    if raw is None:
        return None
    if kind in ("TIMESTAMP", "DATETIME", "DATE", "TIME") and (
            isinstance(raw, int | float) or (isinstance(raw, str) and raw.strip().lstrip("+-").replace(".", "", 1).isdigit())):
        # insertAll takes epoch seconds for TIMESTAMP; a query parameter must spell the value (BigQuery: 400)
        raise Invalid(f"Invalid query parameter value for {name or 'positional parameter'}: "
                      f"Invalid {kind.lower()} value: {raw}")
    field = {"name": name or "parameter", "type": kind, "mode": "NULLABLE"}
    try:
        return convert_value(raw, field, name)
    except ValueError_ as exc:
        raise Invalid(f"Invalid query parameter value for {name or 'positional parameter'}: {exc.message}") from None


# ------------------------------------------------------------------------------------------
# Small results: the same f/v rows, encoded in Python
# ------------------------------------------------------------------------------------------
#: Results up to this many cells are encoded in Python: preparing the DuckDB encoder costs more.
SMALL_RESULT_CELLS = 200
_PY_TYPES = {"INTEGER", "FLOAT", "NUMERIC", "BIGNUMERIC", "BOOLEAN", "STRING", "JSON", "GEOGRAPHY", "BYTES",
             "DATE", "TIME", "DATETIME", "TIMESTAMP", "RECORD"}


def python_encodable(schema: list[dict[str, Any]]) -> bool:
    """Whether every field of ``schema`` has a Python encoder (INTERVAL/RANGE go through DuckDB)."""
    return all(f["type"] in _PY_TYPES and (f["type"] != "RECORD" or python_encodable(f["fields"]))
               and not f.get("timestampPrecision") for f in schema)


def _py_text(value: Any, ftype: str, int64_ts: bool) -> str:
    if ftype == "INTEGER":
        return str(int(value))
    if ftype == "FLOAT":
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(float(value))
    if ftype == "BIGNUMERIC":
        return bignumeric.text(value)
    if ftype == "NUMERIC":
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    if ftype == "BOOLEAN":
        return "true" if value else "false"
    if ftype == "BYTES":
        return base64.b64encode(value).decode("ascii")
    if ftype == "DATE":
        return value.isoformat()
    if ftype in ("TIME", "DATETIME"):  # isoformat pads years before 1000 to 4 digits; strftime does not
        return value.isoformat(timespec="microseconds")
    if ftype == "TIMESTAMP":
        micros = (value - _EPOCH) // dt.timedelta(microseconds=1)
        return str(micros) if int64_ts else f"{micros / 1_000_000:.6E}"
    return str(value)


def _py_cell(value: Any, field: dict[str, Any], int64_ts: bool) -> str:
    if field.get("mode") == "REPEATED":
        element = {**field, "mode": "NULLABLE"}
        return '{"v":[' + ",".join(_py_cell(v, element, int64_ts) for v in (value or [])) + "]}"
    if value is None:
        return '{"v":null}'
    if field["type"] == "RECORD":
        inner = ",".join(_py_cell(value.get(sub["name"]), sub, int64_ts) for sub in field["fields"])
        return '{"v":{"f":[' + inner + "]}}"
    text = _py_text(value, field["type"], int64_ts)
    return '{"v":' + json.dumps(text, ensure_ascii=False) + "}"


def encode_rows_python(rows: list[dict[str, Any]], schema: list[dict[str, Any]], int64_ts: bool = True) -> str:
    """The ``rows`` JSON text for Python row dicts (``pyarrow.Table.to_pylist()``) following ``schema``."""
    return "[" + ",".join(
        '{"f":[' + ",".join(_py_cell(row.get(f["name"]), f, int64_ts) for f in schema) + "]}" for row in rows
    ) + "]"
