"""The BigQuery Storage Read API's behaviour over one backend, independent of the transport.

Works on the raw protobuf messages of ``google.cloud.bigquery.storage.v1`` (the in-process
transport wraps them for the client; the gRPC server serializes them). Errors are raised as
``google.api_core.exceptions`` (``NotFound``, ``InvalidArgument``, ``FailedPrecondition``,
``OutOfRange``) with the service's message patterns: session creation failures start with
``request failed:``, stream failures with ``there was an error operating on '<stream>':``.

Sessions (documented choices):

* A session reads a snapshot taken when it is created (the service's guarantee: every stream
  returns the same rows however often it is read). A table is read from DuckDB at that moment;
  a query's anonymous result table is the job's own Arrow result, shared, never copied.
* ``table_modifiers.snapshot_time`` is honoured when the table has not changed since that
  instant (the snapshot is then the current data). Earlier instants are refused with
  ``INVALID_ARGUMENT``: the emulator keeps no table history to travel back to; instants before
  the table's creation or in the future are refused as by the service.
* Streams: ``max_stream_count`` 0 (the service's choice) gives one stream, so results keep
  their row order and runs stay deterministic; ``n`` gives up to ``n`` streams (at most 1,000 and
  one per row) of contiguous, equal ranges; an empty table gives no stream at all.
  ``preferred_min_stream_count`` raises the count the same way. ``split_read_stream`` cuts a
  stream at ``fraction`` of its rows; the original stays readable.
* ``read_rows`` sends the schema in its first response, then record batches of about
  :data:`RESPONSE_BYTES`, with ``row_count`` and ``stats.progress``. ``offset`` resumes a stream
  at that row; an offset past the stream's end is ``OUT_OF_RANGE``.
* A table deleted (or a job deleted) after the session was created fails ``read_rows`` with
  ``NOT_FOUND``, at the next response. Sessions expire 6 hours of virtual time after creation;
  the snapshots they hold are also let go, oldest first, beyond :data:`HELD_BYTES` — reading an
  expired or released session is ``FAILED_PRECONDITION``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from google.api_core import exceptions as api_exceptions
from google.cloud.bigquery_storage_v1.types import storage as storage_types
from google.cloud.bigquery_storage_v1.types import stream as stream_types

from emulator.bigquery import anonymous
from emulator.bigquery.errors import BigQueryError
from emulator.bigquery.storage import formats, names
from emulator.bigquery.storage.restriction import InvalidRestriction, apply, duckdb_filter

if TYPE_CHECKING:
    import pyarrow as pa

    from emulator.bigquery.backend import BigQueryBackend

CreateReadSessionRequestPb = storage_types.CreateReadSessionRequest.pb()
ReadRowsRequestPb = storage_types.ReadRowsRequest.pb()
ReadRowsResponsePb = storage_types.ReadRowsResponse.pb()
SplitReadStreamRequestPb = storage_types.SplitReadStreamRequest.pb()
SplitReadStreamResponsePb = storage_types.SplitReadStreamResponse.pb()
ReadSessionPb = stream_types.ReadSession.pb()
ReadStreamPb = stream_types.ReadStream.pb()

AVRO = stream_types.DataFormat.AVRO.value
ARROW = stream_types.DataFormat.ARROW.value
SESSION_LIFETIME = timedelta(hours=6)
MAX_STREAMS = 1000
#: Target size of one ReadRows response's rows (the service's limit is 128 MB per response).
RESPONSE_BYTES = 8 * 1024 * 1024
#: Table snapshots kept for open sessions before the oldest are released.
HELD_BYTES = 512 * 1024 * 1024


@dataclass
class _Stream:
    stream_id: str
    start: int
    stop: int

    @property
    def rows(self) -> int:
        return self.stop - self.start


@dataclass
class _Session:
    name: str
    source: tuple[str, ...]  # ("table", p, d, t, created_ms) or ("job", p, job_id)
    source_label: str  # p:d.t
    data_format: int
    fields: list[dict[str, Any]]
    data: pa.Table | None
    owned_bytes: int  # bytes of a snapshot this session holds alone (0 for shared job results)
    rows_per_batch: int
    expire: datetime
    schema_bytes: bytes = b""
    avro_json: str = ""
    avro_parsed: Any = None
    streams: dict[str, _Stream] = field(default_factory=dict)
    released: bool = False


class ReadService:
    """Read sessions and streams over one :class:`BigQueryBackend`."""

    def __init__(self, backend: BigQueryBackend) -> None:
        self.backend = backend
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()
        self._held = 0

    # ------------------------------------------------------------------------------------
    # CreateReadSession
    # ------------------------------------------------------------------------------------
    def create_read_session(self, request: Any) -> Any:
        """``CreateReadSession``: a raw ``CreateReadSessionRequest`` → raw ``ReadSession``."""
        billing = names.parse_parent(request.parent)
        requested = request.read_session
        if not requested.table:
            raise _request_failed("table reference is required")
        project, dataset, table = names.parse_table(requested.table)
        data_format = requested.data_format
        if data_format == stream_types.DataFormat.DATA_FORMAT_UNSPECIFIED.value:
            raise _request_failed("data format unspecified")
        if data_format not in (AVRO, ARROW):
            raise _request_failed(f"data format {stream_types.DataFormat(data_format).name} is not supported "
                                  "by wallaroo-emulator; use ARROW or AVRO")
        max_streams = request.max_stream_count
        preferred_min = getattr(request, "preferred_min_stream_count", 0)  # newer clients only
        if max_streams < 0:
            raise _request_failed("max_stream_count must be non-negative")
        if preferred_min < 0:
            raise _request_failed("preferred_min_stream_count must be non-negative")
        if max_streams and preferred_min > max_streams:
            raise _request_failed("max_stream_count must be greater than or equal to preferred_min_stream_count")
        options = requested.read_options
        if "sample_percentage" in options.DESCRIPTOR.fields_by_name and options.HasField("sample_percentage"):
            raise _request_failed("sample_percentage is not supported by wallaroo-emulator")

        data, fields, source, label = self._snapshot(project, dataset, table, requested, options)
        if data_format == AVRO:
            try:
                avro = formats.avro_schema(fields)
                avro_json, avro_parsed = formats.avro_schema_json(avro), formats.parse_avro_schema(avro)
            except formats.UnsupportedFormat as exc:
                raise _request_failed(str(exc)) from None
        schema = formats.arrow_schema(fields)
        data = formats.conform(data, schema)
        now = self.backend.clock.now()
        session_id = self.backend.ids.hex(12, kind="bigquery-read-session")
        session = _Session(
            name=f"projects/{billing}/locations/{names.LOCATION}/sessions/{session_id}",
            source=source, source_label=label, data_format=data_format, fields=fields, data=data,
            owned_bytes=data.nbytes if source[0] == "table" else 0,
            rows_per_batch=max(1, RESPONSE_BYTES * max(data.num_rows, 1) // max(data.nbytes, 1)),
            expire=now + SESSION_LIFETIME,
        )
        if data_format == ARROW:
            session.schema_bytes = formats.serialize_schema(schema)
        else:
            session.avro_json, session.avro_parsed = avro_json, avro_parsed
        count = _stream_count(data.num_rows, max_streams, preferred_min)
        bounds = [data.num_rows * i // count for i in range(count + 1)] if count else []
        for start, stop in zip(bounds, bounds[1:]):
            self._add_stream(session, start, stop)
        self._keep(session, now)

        out = ReadSessionPb()
        out.name = session.name
        out.expire_time.FromDatetime(session.expire)
        out.data_format = data_format
        if data_format == ARROW:
            out.arrow_schema.serialized_schema = session.schema_bytes
        else:
            out.avro_schema.schema = session.avro_json
        out.table = requested.table
        out.table_modifiers.CopyFrom(requested.table_modifiers)
        out.read_options.CopyFrom(options)
        for stream in session.streams.values():
            out.streams.add().name = f"{session.name}/streams/{stream.stream_id}"
        out.estimated_total_bytes_scanned = data.nbytes
        out.estimated_total_physical_file_size = data.nbytes
        out.estimated_row_count = data.num_rows
        out.trace_id = requested.trace_id
        return out

    def _snapshot(self, project: str, dataset: str, table: str, requested: Any,
                  options: Any) -> tuple[pa.Table, list[dict[str, Any]], tuple[str, ...], str]:
        """The rows and schema a new session reads (restriction applied, fields selected)."""
        label = f"{project}:{dataset}.{table}"
        modifiers = requested.table_modifiers
        snapshot = modifiers.snapshot_time.ToDatetime(tzinfo=UTC) \
            if modifiers.HasField("snapshot_time") else None
        job = anonymous.job_for(self.backend, project, dataset, table)
        if job is not None:
            self._check_snapshot(snapshot, job.created_ms, job.created_ms, label)
            data, fields = job.outcome.rows, list(job.outcome.schema or [])
            source: tuple[str, ...] = ("job", project, job.job_id)
        else:
            try:
                meta = self.backend.get_table(project, dataset, table)
            except BigQueryError as exc:
                raise api_exceptions.NotFound(exc.message) from None
            if meta.kind != "TABLE":
                raise _request_failed("non-table entities cannot be read with the storage API")
            self._check_snapshot(snapshot, meta.created_ms, meta.modified_ms, label)
            fields = list(meta.schema)
            data = None
            source = ("table", project, dataset, table, str(meta.created_ms))

        selection, unknown = formats.parse_selection(fields, list(options.selected_fields))
        if unknown:
            raise _request_failed(f"The following selected fields do not exist in the table schema: "
                                  f"{', '.join(unknown)}")
        restriction = options.row_restriction.strip()
        if data is None:
            wanted = None if restriction or selection is None else [f["name"] for f in fields if f["name"] in selection]
            try:
                data, read_fields, _ = self.backend.read_rows(project, dataset, table, selected_fields=wanted)
            except BigQueryError as exc:
                raise api_exceptions.NotFound(exc.message) from None
            if wanted is not None:
                fields = list(read_fields)
        if restriction:
            data = self._restrict(data, fields, project, restriction, label)
        data = formats.project(data, fields, selection)
        return data, formats.selected_schema(fields, selection), source, label

    def _check_snapshot(self, snapshot: datetime | None, created_ms: int, modified_ms: int, label: str) -> None:
        if snapshot is None:
            return
        instant_ms = int(snapshot.timestamp() * 1000)
        now_ms = self.backend.clock.epoch_ms()
        if instant_ms > now_ms:
            raise _request_failed(f"Invalid snapshot time {instant_ms} for table {label}: it is in the future")
        if instant_ms < created_ms:
            raise _request_failed(f"Invalid snapshot time {instant_ms} for table {label}: it is before the table "
                                  f"was created ({created_ms})")
        if instant_ms < modified_ms:
            raise _request_failed(f"Invalid snapshot time {instant_ms} for table {label}: the table changed at "
                                  f"{modified_ms}, and wallaroo-emulator keeps no table history to read it as of "
                                  "an earlier instant")

    def _restrict(self, data: pa.Table, fields: list[dict[str, Any]], project: str, restriction: str,
                  label: str) -> pa.Table:
        def invalid(detail: str) -> api_exceptions.InvalidArgument:
            return _request_failed(f"Row filter for table {label} is invalid. Filter is '{restriction}' "
                                   f"({detail})")

        try:
            sql = duckdb_filter(restriction, project=project, now=self.backend.clock.now(), fields=fields)
        except InvalidRestriction as exc:
            raise invalid(str(exc)) from None
        engine = self.backend.engine
        try:
            with engine.lock, engine.scratch_cursor() as cursor:
                return apply(cursor, data, sql)
        except InvalidRestriction as exc:
            raise invalid(str(exc)) from None

    def _add_stream(self, session: _Session, start: int, stop: int) -> _Stream:
        stream_id = self.backend.ids.hex(8, kind="bigquery-read-stream")
        stream = session.streams[stream_id] = _Stream(stream_id, start, stop)
        return stream

    def _keep(self, session: _Session, now: datetime) -> None:
        with self._lock:
            while self._sessions:  # every session lives as long: the oldest expire first
                oldest = next(iter(self._sessions.values()))
                if oldest.expire > now:
                    break
                self._release(self._sessions.pop(oldest.name))
            self._sessions[session.name] = session
            self._held += session.owned_bytes
            if self._held > HELD_BYTES:
                for old in self._sessions.values():
                    if self._held <= HELD_BYTES or old is session:
                        break
                    self._release(old)

    def _release(self, session: _Session) -> None:
        if not session.released:
            session.released = True
            session.data = None
            self._held -= session.owned_bytes

    # ------------------------------------------------------------------------------------
    # ReadRows
    # ------------------------------------------------------------------------------------
    def read_rows(self, request: Any) -> Iterator[Any]:
        """``ReadRows``: raw ``ReadRowsRequest`` → raw ``ReadRowsResponse`` messages.

        A generator: like a gRPC stream, errors surface when iteration starts.
        """
        name, offset = request.read_stream, request.offset
        job_stream = names.parse_job_stream(name)
        if job_stream is not None:
            yield from self._read_job_stream(name, *job_stream, offset)
            return
        session, stream = self._lookup(name)
        self._check_readable(session, name)
        if offset < 0 or offset > stream.rows:
            raise api_exceptions.OutOfRange(f"there was an error operating on '{name}': offset {offset} is out of "
                                            f"range for a stream of {stream.rows} rows")
        data = session.data
        assert data is not None
        position = offset
        first = True
        for batch in formats.batches(data, stream.start + offset, stream.stop, session.rows_per_batch):
            if not first:
                self._check_readable(session, name)
            response = ReadRowsResponsePb()
            if first:
                if session.data_format == ARROW:
                    response.arrow_schema.serialized_schema = session.schema_bytes
                else:
                    response.avro_schema.schema = session.avro_json
                first = False
            rows = batch.num_rows
            if session.data_format == ARROW:
                response.arrow_record_batch.serialized_record_batch = formats.serialize_batch(batch)
                response.arrow_record_batch.row_count = rows
            else:
                response.avro_rows.serialized_binary_rows = formats.avro_rows(batch, session.fields,
                                                                              session.avro_parsed)
                response.avro_rows.row_count = rows
            response.row_count = rows
            response.stats.progress.at_response_start = position / stream.rows
            position += rows
            response.stats.progress.at_response_end = position / stream.rows
            yield response

    def _read_job_stream(self, name: str, project: str, job_id: str, offset: int) -> Iterator[Any]:
        """A query job's default stream: its results from row ``offset``, for ARROW-format results."""
        try:
            job = self.backend.get_job(project, job_id)
        except BigQueryError as exc:
            raise api_exceptions.NotFound(f"there was an error operating on '{name}': {exc.message}") from None
        if job.error is not None:
            raise api_exceptions.from_http_status(job.error.status, job.error.message)
        config = job.configuration.get("query") or {}
        if config.get("destinationTable"):
            raise api_exceptions.InvalidArgument(f"there was an error operating on '{name}': This API does not "
                                                 "support explicitly-specified destination tables")
        outcome = job.outcome
        if outcome is None or outcome.rows is None:
            return
        schema = formats.arrow_schema(list(outcome.schema or []))
        data = formats.conform(outcome.rows, schema)
        if offset < 0 or offset > data.num_rows:
            raise api_exceptions.OutOfRange(f"there was an error operating on '{name}': offset {offset} is out of "
                                            f"range for a stream of {data.num_rows} rows")
        rows_per_batch = max(1, RESPONSE_BYTES * max(data.num_rows, 1) // max(data.nbytes, 1))
        schema_bytes = formats.serialize_schema(schema)
        position = offset
        for batch in formats.batches(data, offset, data.num_rows, rows_per_batch):
            response = ReadRowsResponsePb()
            if position == offset:
                response.arrow_schema.serialized_schema = schema_bytes
            response.arrow_record_batch.serialized_record_batch = formats.serialize_batch(batch)
            response.arrow_record_batch.row_count = batch.num_rows
            response.row_count = batch.num_rows
            response.stats.progress.at_response_start = position / data.num_rows
            position += batch.num_rows
            response.stats.progress.at_response_end = position / data.num_rows
            yield response

    def _lookup(self, name: str) -> tuple[_Session, _Stream]:
        session_name, stream_id = names.parse_stream(name)
        with self._lock:
            session = self._sessions.get(session_name)
        stream = session.streams.get(stream_id) if session is not None else None
        if session is None or stream is None:
            raise api_exceptions.NotFound(f"there was an error operating on '{name}': the read stream was not found")
        return session, stream

    def _check_readable(self, session: _Session, name: str) -> None:
        now = self.backend.clock.now()
        if session.released or now >= session.expire:
            raise api_exceptions.FailedPrecondition(
                f"there was an error operating on '{name}': the read session expired at "
                f"{session.expire.isoformat()}" + (" (its snapshot was released to make room for newer sessions)"
                                                   if session.released and now < session.expire else ""))
        kind, project, *rest = session.source
        if kind == "table":
            dataset, table, created = rest
            try:
                meta = self.backend.get_table(project, dataset, table)
            except BigQueryError:
                meta = None
            if meta is None or str(meta.created_ms) != created:
                raise api_exceptions.NotFound(f"there was an error operating on '{name}': Not found: Table "
                                              f"{session.source_label} was not found in location US "
                                              "(it was deleted after the read session was created)")
        else:
            try:
                self.backend.get_job(project, rest[0])
            except BigQueryError:
                raise api_exceptions.NotFound(f"there was an error operating on '{name}': Not found: Table "
                                              f"{session.source_label} was not found in location US "
                                              "(its query job was deleted)") from None

    # ------------------------------------------------------------------------------------
    # SplitReadStream
    # ------------------------------------------------------------------------------------
    def split_read_stream(self, request: Any) -> Any:
        """``SplitReadStream``: raw ``SplitReadStreamRequest`` → raw ``SplitReadStreamResponse``."""
        name, fraction = request.name, request.fraction
        session, stream = self._lookup(name)
        if not 0.0 < fraction < 1.0:
            raise api_exceptions.InvalidArgument(f"there was an error operating on '{name}': fraction must be "
                                                 f"in (0.0, 1.0), got {fraction}")
        out = SplitReadStreamResponsePb()
        if stream.rows < 2:
            return out  # can no longer be split: both halves empty
        cut = stream.start + min(stream.rows - 1, max(1, int(stream.rows * fraction)))
        with self._lock:
            primary = self._add_stream(session, stream.start, cut)
            remainder = self._add_stream(session, cut, stream.stop)
        out.primary_stream.name = f"{session.name}/streams/{primary.stream_id}"
        out.remainder_stream.name = f"{session.name}/streams/{remainder.stream_id}"
        return out


def _stream_count(rows: int, max_streams: int, preferred_min: int) -> int:
    if rows == 0:
        return 0
    wanted = max_streams or max(1, preferred_min)
    return max(1, min(wanted, MAX_STREAMS, rows))


def _request_failed(detail: str) -> api_exceptions.InvalidArgument:
    return api_exceptions.InvalidArgument(f"request failed: {detail}")
