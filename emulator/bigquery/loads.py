"""Load jobs with uploaded data: Parquet, newline-delimited JSON, CSV and Avro.

Write dispositions (WRITE_APPEND — the default for loads —, WRITE_TRUNCATE, WRITE_EMPTY) and
create dispositions (CREATE_IF_NEEDED, CREATE_NEVER) follow BigQuery. The schema comes from the
job configuration, else the existing table, else autodetection from the data (Parquet and Avro
carry their own; NDJSON and CSV are inferred by Arrow, as ``autodetect`` does in BigQuery).
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from emulator.bigquery import types as bqtypes
from emulator.bigquery.errors import Invalid, NotFound
from emulator.bigquery.wire import ValueError_, convert_record, convert_value

if TYPE_CHECKING:
    from emulator.bigquery.catalog import Catalog
    from emulator.bigquery.tabledata import TableData


def run_load(catalog: Catalog, tables: TableData, config: dict[str, Any], data: bytes, default_project: str) -> int:
    """Execute a load configuration over ``data``; returns the number of rows written."""
    dest = config.get("destinationTable") or {}
    if not dest.get("datasetId") or not dest.get("tableId"):
        raise Invalid("Required parameter is missing: destinationTable")
    project = dest.get("projectId") or default_project
    dataset, table = dest["datasetId"], dest["tableId"]
    catalog.require_dataset(project, dataset)
    fmt = (config.get("sourceFormat") or "CSV").upper()
    declared = (config.get("schema") or {}).get("fields")
    existing = catalog.table(project, dataset, table)
    write = config.get("writeDisposition") or "WRITE_APPEND"
    create = config.get("createDisposition") or "CREATE_IF_NEEDED"
    if existing is None and create == "CREATE_NEVER":
        raise NotFound(f"Not found: Table {project}:{dataset}.{table}")
    schema = bqtypes.normalise_schema(declared) if declared else (existing.schema if existing else None)

    if fmt == "PARQUET":
        import pyarrow.parquet as pq

        try:
            arrow = pq.read_table(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds
            raise Invalid(f"Error while reading data, error message: {exc}") from None
        targets = _decimal_targets(arrow, config.get("decimalTargetTypes"))
        if schema is None and targets:
            schema = [{**f, "type": targets.get(f["name"], f["type"])}
                      for f in bqtypes.schema_from_arrow(arrow.schema)]
    elif fmt == "AVRO":
        arrow = _read_avro(data)
    elif fmt == "NEWLINE_DELIMITED_JSON":
        return _load_json_lines(tables, config, data, project, dataset, table, schema, write, create)
    elif fmt == "CSV":
        arrow = _read_csv(config, data, schema)
    else:
        raise Invalid(f"Unsupported source format: {fmt}")
    if schema is None:
        schema = bqtypes.schema_from_arrow(arrow.schema)
    return tables.load_arrow(project, dataset, table, arrow, write_disposition=write, create_disposition=create,
                             schema=schema)


def _decimal_targets(arrow: Any, allowed: list[str] | None) -> dict[str, str]:
    """``decimalTargetTypes``: each Parquet decimal column becomes the first of NUMERIC, BIGNUMERIC,
    STRING that is allowed and holds its precision and scale (NUMERIC: scale <= 9 and at most 29
    integer digits; BIGNUMERIC: scale <= 38 and at most 38 integer digits); none: the load fails."""
    import pyarrow as pa

    if not allowed:
        return {}
    allowed_set = {str(t).upper() for t in allowed}
    out: dict[str, str] = {}
    for field in arrow.schema:
        if not pa.types.is_decimal(field.type):
            continue
        precision, scale = field.type.precision, field.type.scale
        fits = {"NUMERIC": scale <= 9 and precision - scale <= 29,
                "BIGNUMERIC": scale <= 38 and precision - scale <= 38, "STRING": True}
        chosen = next((t for t in ("NUMERIC", "BIGNUMERIC", "STRING") if t in allowed_set and fits[t]), None)
        if chosen is None:
            names = ", ".join(sorted(allowed_set))
            raise Invalid(f"Error while reading data, error message: Parquet column '{field.name}' of type "
                          f"DECIMAL({precision}, {scale}) is out of valid {names} range")
        out[field.name] = chosen
    return out


def _read_avro(data: bytes) -> Any:
    import fastavro
    import pyarrow as pa

    try:
        records = list(fastavro.reader(io.BytesIO(data)))
    except Exception as exc:  # noqa: BLE001
        raise Invalid(f"Error while reading data, error message: The Apache Avro library failed to parse the "
                      f"header with the following error: {exc}") from None
    return pa.Table.from_pylist(records)


def _read_csv(config: dict[str, Any], data: bytes, schema: list[dict[str, Any]] | None) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    skip = int(config.get("skipLeadingRows") or 0)
    delimiter = config.get("fieldDelimiter") or ","
    if delimiter == "\\t" or delimiter.lower() == "tab":
        delimiter = "\t"
    quote = config.get("quote", '"') or '"'
    null_marker = config.get("nullMarker")
    if schema is not None:
        read = pacsv.ReadOptions(skip_rows=skip, column_names=[f["name"] for f in schema])
    elif skip > 0 or config.get("autodetect"):
        # autodetect reads the header row for column names
        read = pacsv.ReadOptions(skip_rows=max(skip - 1, 0))
    else:
        read = pacsv.ReadOptions(autogenerate_column_names=True)
    convert = pacsv.ConvertOptions(
        column_types={f["name"]: _csv_type(f) for f in schema if f["mode"] != "REPEATED"} if schema else None,
        null_values=[null_marker] if null_marker is not None else [""],
        strings_can_be_null=True,
    )
    one_column = schema is not None and len(schema) == 1
    try:
        table = pacsv.read_csv(io.BytesIO(data), read_options=read,
                               parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=quote,
                                                                # one column: an empty line is a NULL value
                                                                ignore_empty_lines=not one_column),
                               convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise Invalid(f"Error while reading data, error message: CSV processing encountered too many errors, "
                      f"giving up. Rows: 0; errors: 1; {exc}") from None
    return _convert_text_columns(table, schema)


def _convert_text_columns(table: Any, schema: list[dict[str, Any]] | None) -> Any:
    """CSV cells of RANGE, INTERVAL, BIGNUMERIC and picosecond TIMESTAMP columns are text in BigQuery's
    spelling (``[2020-01-01, 2020-02-01)``, ``P1Y2M``…): converted as JSON loads convert them."""
    import pyarrow as pa

    for f in schema or []:
        if not (f["type"] in ("RANGE", "INTERVAL", "BIGNUMERIC", "GEOGRAPHY") or bqtypes.is_pico(f)) or f["mode"] == "REPEATED" \
                or f["name"] not in table.column_names:
            continue
        index = table.column_names.index(f["name"])
        values = []
        for number, cell in enumerate(table.column(index).to_pylist(), start=1):
            try:
                values.append(None if cell is None else convert_value(cell, f, f["name"]))
            except ValueError_ as exc:
                raise Invalid(f"Error while reading data, error message: CSV processing encountered too many "
                              f"errors, giving up. Rows: {number}; errors: 1; {exc.message}") from None
        table = table.set_column(index, f["name"], pa.array(values, type=bqtypes.arrow_type({**f, "mode": "NULLABLE"})))
    return table


def _csv_type(field: dict[str, Any]) -> Any:
    import pyarrow as pa

    if field["type"] in ("JSON", "GEOGRAPHY", "STRING", "RANGE", "INTERVAL", "BIGNUMERIC") or bqtypes.is_pico(field):
        return pa.string()
    if field["type"] == "BYTES":
        return pa.string()
    return bqtypes.arrow_type({**field, "mode": "NULLABLE"})


def _load_json_lines(tables: TableData, config: dict[str, Any], data: bytes, project: str, dataset: str,
                     table: str, schema: list[dict[str, Any]] | None, write: str, create: str) -> int:
    import pyarrow as pa

    rows = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise Invalid(f"Error while reading data, error message: JSON table encountered too many errors, "
                          f"giving up. Rows: {number}; errors: 1. Please look into the errors[] collection for "
                          f"more details.") from None
        if not isinstance(row, dict):
            raise Invalid(f"Error while reading data, error message: JSON parsing error in row starting at "
                          f"position {number}: Expected object.")
        rows.append(row)
    if schema is None:
        if not rows:
            raise Invalid("No schema specified on job or table.")
        arrow = pa.Table.from_pylist(rows)
        schema = bqtypes.schema_from_arrow(arrow.schema)
    ignore_unknown = bool(config.get("ignoreUnknownValues"))
    max_bad = int(config.get("maxBadRecords") or 0)
    converted = []
    bad = 0
    for number, row in enumerate(rows, start=1):
        try:
            converted.append(convert_record(row, schema, ignore_unknown=ignore_unknown))
        except ValueError_ as exc:
            bad += 1
            if bad > max_bad:
                raise Invalid(f"Error while reading data, error message: JSON table encountered too many errors, "
                              f"giving up. Rows: {number}; errors: 1. Please look into the errors[] collection "
                              f"for more details. Error: {exc.message} Field: {exc.location}") from None
    arrow = pa.Table.from_pylist(converted, schema=bqtypes.arrow_schema(schema))
    return tables.load_arrow(project, dataset, table, arrow, write_disposition=write, create_disposition=create,
                             schema=schema)
