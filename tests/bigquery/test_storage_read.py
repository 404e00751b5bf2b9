"""The BigQuery Storage Read API, in-process and over gRPC, through the real clients.

Through google-cloud-bigquery (``to_dataframe``/``to_arrow``/``to_dataframe_iterable``/
``list_rows``/DB-API, which pick the Storage API on their own) and through
``BigQueryReadClient`` used directly: every type, selected fields, row restrictions, streams,
splits, empty results, resumption, snapshots and the service's errors.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import subprocess
import sys
import warnings

import pandas
import pyarrow as pa
import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, bigquery_storage
from google.cloud.bigquery_storage_v1 import types
from google.protobuf import timestamp_pb2

from emulator import Emulator
from emulator.bigquery import storage as storage_api
from emulator.bigquery.storage import service as service_module

PROJECT = "storage-proj"

ALL_TYPES = [
    {"name": "i", "type": "INT64", "mode": "REQUIRED"},
    {"name": "f", "type": "FLOAT64"},
    {"name": "n", "type": "NUMERIC"},
    {"name": "bn", "type": "BIGNUMERIC"},
    {"name": "b", "type": "BOOL"},
    {"name": "s", "type": "STRING"},
    {"name": "y", "type": "BYTES"},
    {"name": "d", "type": "DATE"},
    {"name": "t", "type": "TIME"},
    {"name": "dt", "type": "DATETIME"},
    {"name": "ts", "type": "TIMESTAMP"},
    {"name": "j", "type": "JSON"},
    {"name": "g", "type": "GEOGRAPHY"},
    {"name": "a", "type": "FLOAT64", "mode": "REPEATED"},
    {"name": "r", "type": "RECORD", "fields": [
        {"name": "x", "type": "INT64"}, {"name": "tags", "type": "STRING", "mode": "REPEATED"},
        {"name": "doc", "type": "JSON"}]},
]
ROWS = [
    {"i": "1", "f": 1.5, "n": "1.25", "bn": "3.5", "b": True, "s": "one", "y": "AAE=", "d": "2024-01-01",
     "t": "01:02:03.000004", "dt": "2024-01-02T03:04:05.000006", "ts": "2024-01-02T03:04:05.123456Z",
     "j": '{"a": [1, 2]}', "g": "POINT(1 2)", "a": [0.5, 1.5], "r": {"x": "7", "tags": ["p", "q"], "doc": "{}"}},
    {"i": "2", "f": -0.25, "n": "-99.000000001", "bn": "0", "b": False, "s": "two", "y": "", "d": "1999-12-31",
     "t": "23:59:59", "dt": "1999-12-31T23:59:59", "ts": "1999-12-31T23:59:59Z", "j": "[]",
     "g": "LINESTRING(0 0, 1 1)", "a": [], "r": {"x": None, "tags": [], "doc": None}},
    {"i": "3", "a": [2.0]},  # NULLs everywhere else
]
EXPECTED_ARROW = pa.schema([
    pa.field("i", pa.int64(), nullable=False),
    pa.field("f", pa.float64()),
    pa.field("n", pa.decimal128(38, 9)),
    pa.field("bn", pa.decimal256(76, 38)),
    pa.field("b", pa.bool_()),
    pa.field("s", pa.string()),
    pa.field("y", pa.binary()),
    pa.field("d", pa.date32()),
    pa.field("t", pa.time64("us")),
    pa.field("dt", pa.timestamp("us"), metadata={b"ARROW:extension:name": b"google:sqlType:datetime"}),
    pa.field("ts", pa.timestamp("us", tz="UTC")),
    pa.field("j", pa.string(), metadata={b"ARROW:extension:name": b"google:sqlType:json"}),
    pa.field("g", pa.string(), metadata={b"ARROW:extension:name": b"google:sqlType:geography",
                                         b"ARROW:extension:metadata": b'{"encoding": "WKT"}'}),
    pa.field("a", pa.list_(pa.float64()), nullable=False),
    pa.field("r", pa.struct([pa.field("x", pa.int64()), pa.field("tags", pa.list_(pa.string()), nullable=False),
                             pa.field("doc", pa.string(),
                                      metadata={b"ARROW:extension:name": b"google:sqlType:json"})])),
])


@pytest.fixture
def emu():
    with Emulator() as emulator:
        yield emulator
    emulator.close()


@pytest.fixture
def client(emu):
    return emu.bigquery_client(project=PROJECT)


@pytest.fixture
def read_client(emu):
    return bigquery_storage.BigQueryReadClient(credentials=AnonymousCredentials())


@pytest.fixture
def all_types(emu):
    emu.bigquery.create_dataset(PROJECT, "ds")
    emu.bigquery.create_table(PROJECT, "ds", "all", ALL_TYPES)
    assert emu.bigquery.insert_rows(PROJECT, "ds", "all", ROWS) == []
    return f"{PROJECT}.ds.all"


def _numbers(emu, table="nums", count=10):
    emu.bigquery.create_dataset(PROJECT, "ds", exists_ok=True)
    emu.bigquery.create_table(PROJECT, "ds", table, [{"name": "k", "type": "INT64"}, {"name": "v", "type": "STRING"}])
    emu.bigquery.insert_rows(PROJECT, "ds", table, [{"k": str(k), "v": f"v{k}"} for k in range(count)])
    return f"projects/{PROJECT}/datasets/ds/tables/{table}"


def _session(read_client, table, data_format=types.DataFormat.ARROW, max_stream_count=0, **read_options):
    requested = types.ReadSession(table=table, data_format=data_format,
                                  read_options=types.ReadSession.TableReadOptions(**read_options))
    return read_client.create_read_session(parent=f"projects/{PROJECT}", read_session=requested,
                                           max_stream_count=max_stream_count)


def _keys(read_client, stream_name, offset=0):
    table = read_client.read_rows(stream_name, offset=offset).to_arrow()
    return table.column("k").to_pylist() if table.num_rows else []


@pytest.fixture
def sessions(emu, monkeypatch):
    """Counts the read sessions the Storage API creates (proves which path the client took)."""
    created = []
    original = service_module.ReadService.create_read_session

    def spy(self, request):
        created.append(request.read_session.table)
        return original(self, request)

    monkeypatch.setattr(service_module.ReadService, "create_read_session", spy)
    return created


# ------------------------------------------------------------------------------------------
# Through google-cloud-bigquery
# ------------------------------------------------------------------------------------------
def test_list_rows_to_arrow_uses_the_storage_api_with_the_real_types(client, all_types, sessions):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "Cannot create BigQuery Storage client" / "not found"
        table = client.list_rows(all_types).to_arrow()
    assert sessions == [f"projects/{PROJECT}/datasets/ds/tables/all"]
    assert table.schema.equals(EXPECTED_ARROW, check_metadata=True)
    for got, want in zip(table.schema, EXPECTED_ARROW):  # nested field metadata and nullability too
        assert got.type.equals(want.type, check_metadata=True) if hasattr(got.type, "equals") else True
    rows = table.to_pylist()
    assert rows[0]["n"] == decimal.Decimal("1.25") and rows[0]["bn"] == decimal.Decimal("3.5")
    assert rows[0]["ts"] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    assert rows[0]["dt"] == dt.datetime(2024, 1, 2, 3, 4, 5, 6) and rows[0]["t"] == dt.time(1, 2, 3, 4)
    assert rows[0]["y"] == b"\x00\x01" and rows[0]["g"] == "POINT(1 2)"
    assert json.loads(rows[0]["j"]) == {"a": [1, 2]}
    assert rows[0]["a"] == [0.5, 1.5] and rows[0]["r"]["tags"] == ["p", "q"] and rows[0]["r"]["x"] == 7
    assert rows[2]["a"] == [2.0] and rows[2]["s"] is None and rows[2]["r"] is None
    rest = client.list_rows(all_types).to_arrow(create_bqstorage_client=False)
    assert rest.to_pylist() == rows
    assert [f.type for f in rest.schema] == [f.type for f in table.schema]


def test_query_to_dataframe_equals_the_rest_path(client, all_types, sessions):
    sql = "SELECT * FROM ds.all ORDER BY i"
    job = client.query(sql)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        frame = job.to_dataframe()
    assert job.destination is not None and job.destination.table_id.startswith("anon")
    assert len(sessions) == 1
    rest = client.query(sql).to_dataframe(create_bqstorage_client=False)
    pandas.testing.assert_frame_equal(frame, rest)
    assert str(frame.dtypes["ts"]) == "datetime64[us, UTC]" and str(frame.dtypes["dt"]) == "datetime64[us]"
    assert str(frame.dtypes["d"]) == "dbdate" and str(frame.dtypes["t"]) == "dbtime"


def test_query_results_to_arrow_and_iterables(client, emu, sessions, read_client):
    client.query("CREATE SCHEMA ds").result()
    client.query("CREATE TABLE ds.big AS SELECT n, [n * 1.0, 2.0] AS t FROM UNNEST(GENERATE_ARRAY(1, 3000)) AS n"
                 ).result()
    arrow = client.query("SELECT * FROM ds.big").to_arrow()
    assert arrow.num_rows == 3000 and arrow.column("t")[0].as_py() == [1.0, 2.0]
    assert arrow.schema.field("t").type == pa.list_(pa.float64())
    # the iterables use the Storage API when handed a client (without one they page over REST)
    frames = list(client.query("SELECT * FROM ds.big").result().to_dataframe_iterable(bqstorage_client=read_client))
    assert sum(len(f) for f in frames) == 3000 and list(frames[0]["t"][0]) == [1.0, 2.0]
    batches = list(client.list_rows("ds.big").to_arrow_iterable(bqstorage_client=read_client))
    assert sum(b.num_rows for b in batches) == 3000
    assert len(sessions) == 3
    assert sum(len(f) for f in client.list_rows("ds.big").to_dataframe_iterable()) == 3000
    assert len(sessions) == 3
    # list_rows with max_results, and small query_and_wait results, stay on REST as in production
    assert len(client.list_rows("ds.big", max_results=10).to_dataframe()) == 10
    assert len(client.query_and_wait("SELECT 1 AS x").to_dataframe()) == 1
    assert len(sessions) == 3


def test_empty_results_keep_their_schema(client, all_types, sessions):
    frame = client.query("SELECT * FROM ds.all WHERE i > 100").to_dataframe()
    rest = client.query("SELECT * FROM ds.all WHERE i > 100").to_dataframe(create_bqstorage_client=False)
    assert len(frame) == 0 and list(frame.columns) == [f["name"] for f in ALL_TYPES]
    assert list(frame.dtypes) == list(rest.dtypes)
    arrow = client.query("SELECT i, ts FROM ds.all WHERE i > 100").to_arrow()
    assert arrow.num_rows == 0 and arrow.schema.field("ts").type == pa.timestamp("us", tz="UTC")


def test_dbapi_cursor_fetches_through_the_storage_api(client, all_types, sessions):
    from google.cloud.bigquery import dbapi

    connection = dbapi.connect(client)
    cursor = connection.cursor()
    cursor.arraysize = 2  # a first page smaller than the result: the rest comes through the Storage API
    cursor.execute("SELECT i, s, a FROM ds.all ORDER BY i")
    assert [tuple(row.values()) for row in cursor.fetchall()] == [(1, "one", [0.5, 1.5]), (2, "two", []),
                                                                (3, None, [2.0])]
    assert len(sessions) == 1


def test_rest_requests_from_another_process_get_no_anonymous_destination(emu, client):
    """A client in another process (the 127.0.0.1 server) cannot reach the in-process Storage API."""
    job = client.query("SELECT 1 AS x")
    job.result()
    assert job.destination is not None
    url = f"https://bigquery.googleapis.com/bigquery/v2/projects/{PROJECT}/jobs/{job.job_id}"
    response = emu.router.dispatch("GET", url, {}, b"")  # not through an in-process interception
    assert "destinationTable" not in json.loads(response.body)["configuration"]["query"]


# ------------------------------------------------------------------------------------------
# BigQueryReadClient directly
# ------------------------------------------------------------------------------------------
def test_read_client_arrow_session_and_stream(read_client, all_types):
    session = _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/all")
    assert session.name.startswith(f"projects/{PROJECT}/locations/us/sessions/")
    assert len(session.streams) == 1 and session.streams[0].name.startswith(session.name + "/streams/")
    assert session.estimated_row_count == 3 and session.data_format == types.DataFormat.ARROW
    schema = pa.ipc.read_schema(pa.py_buffer(session.arrow_schema.serialized_schema))
    assert schema.equals(EXPECTED_ARROW, check_metadata=True)
    responses = list(read_client.read_rows(session.streams[0].name))
    assert responses[0].arrow_schema.serialized_schema == session.arrow_schema.serialized_schema
    assert sum(r.row_count for r in responses) == 3
    assert responses[-1].stats.progress.at_response_end == 1.0
    batch = pa.ipc.read_record_batch(pa.py_buffer(responses[0].arrow_record_batch.serialized_record_batch), schema)
    assert batch.column("s").to_pylist()[:2] == ["one", "two"]
    # 6 hours of virtual time (read on the raw message: proto-plus builds its own datetime subclass)
    assert types.ReadSession.pb(session).expire_time.seconds == dt.datetime(2023, 5, 11, 3, tzinfo=dt.UTC).timestamp()


def test_read_client_avro_rows(read_client, all_types):
    session = _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/all", types.DataFormat.AVRO)
    avro = json.loads(session.avro_schema.schema)
    assert avro["name"] == "__root__"
    kinds = {f["name"]: f["type"] for f in avro["fields"]}
    assert kinds["i"] == "long" and kinds["f"] == ["null", "double"]
    assert kinds["n"][1] == {"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 9}
    assert kinds["dt"][1] == {"type": "string", "logicalType": "datetime"}
    assert kinds["a"] == {"type": "array", "items": "double"}
    rows = list(read_client.read_rows(session.streams[0].name).rows())
    assert rows[0]["n"] == decimal.Decimal("1.250000000") and rows[0]["bn"] == decimal.Decimal("3.5")
    assert rows[0]["ts"] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    assert rows[0]["dt"] == "2024-01-02T03:04:05.000006" and rows[0]["d"] == dt.date(2024, 1, 1)
    assert rows[0]["t"] == dt.time(1, 2, 3, 4) and rows[0]["y"] == b"\x00\x01"
    assert rows[0]["r"] == {"x": 7, "tags": ["p", "q"], "doc": "{}"} and rows[0]["a"] == [0.5, 1.5]
    assert rows[2]["s"] is None and rows[2]["r"] is None


def test_selected_fields_nested_fields_and_row_restriction(read_client, all_types):
    table = f"projects/{PROJECT}/datasets/ds/tables/all"
    session = _session(read_client, table, selected_fields=["r.tags", "S", "i"],
                       row_restriction="i >= 2 AND (s IS NULL OR STARTS_WITH(s, 't'))")
    schema = pa.ipc.read_schema(pa.py_buffer(session.arrow_schema.serialized_schema))
    assert schema.names == ["i", "s", "r"]  # the table's order, whatever the request's
    assert schema.field("r").type == pa.struct([pa.field("tags", pa.list_(pa.string()), nullable=False)])
    rows = read_client.read_rows(session.streams[0].name).to_arrow().to_pylist()
    assert rows == [{"i": 2, "s": "two", "r": {"tags": []}}, {"i": 3, "s": None, "r": None}]
    frozen = _session(read_client, table, selected_fields=["i"], row_restriction="ts < CURRENT_TIMESTAMP()")
    assert _ids(read_client, frozen) == [2]  # the virtual clock's now (2023-05-10) is before 2024
    unnest = _session(read_client, table, selected_fields=["i"], row_restriction="2.0 IN UNNEST(a)")
    assert _ids(read_client, unnest) == [3]


def _ids(read_client, session):
    return read_client.read_rows(session.streams[0].name).to_arrow().column("i").to_pylist()


@pytest.mark.parametrize("restriction", ["nope > 1", "i >", "i > 1; DROP TABLE ds.all",
                                         "i IN (SELECT 1)", "COUNT(*) > 1", "i > (SELECT MAX(i) FROM ds.all)"])
def test_invalid_row_restriction_is_invalid_argument(read_client, all_types, restriction):
    with pytest.raises(exceptions.InvalidArgument, match=r"request failed: Row filter for table "
                       rf"{PROJECT}:ds\.all is invalid\. Filter is"):
        _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/all", row_restriction=restriction)


def test_multiple_streams_cover_every_row_once(read_client, emu):
    table = _numbers(emu, count=10)
    session = _session(read_client, table, max_stream_count=3)
    assert len(session.streams) == 3
    parts = [_keys(read_client, s.name) for s in session.streams]
    assert sorted(k for part in parts for k in part) == list(range(10)) and all(parts)
    assert len(_session(read_client, table, max_stream_count=50).streams) == 10  # at most one per row
    assert len(_session(read_client, table).streams) == 1  # the service's choice: one stream, rows in order


def test_multiple_streams_through_the_bigquery_client(client, emu):
    _numbers(emu, count=40)
    frames = list(client.list_rows(f"{PROJECT}.ds.nums").to_dataframe_iterable(max_stream_count=4))
    assert sorted(k for f in frames for k in f["k"]) == list(range(40))


def test_split_read_stream(read_client, emu):
    table = _numbers(emu, count=10)
    session = _session(read_client, table)
    original = session.streams[0].name
    split = read_client.split_read_stream(request={"name": original, "fraction": 0.3})
    primary, remainder = split.primary_stream.name, split.remainder_stream.name
    assert _keys(read_client, primary) + _keys(read_client, remainder) == list(range(10))
    assert _keys(read_client, primary) == [0, 1, 2]
    assert _keys(read_client, original) == list(range(10))  # the original stays readable
    again = read_client.split_read_stream(request={"name": primary, "fraction": 0.5})
    assert _keys(read_client, again.primary_stream.name) == [0]
    single = read_client.split_read_stream(request={"name": again.primary_stream.name, "fraction": 0.5})
    assert not single.primary_stream.name and not single.remainder_stream.name  # can no longer be split
    with pytest.raises(exceptions.InvalidArgument):
        read_client.split_read_stream(request={"name": original, "fraction": 1.0})


def test_empty_table_has_no_streams(read_client, emu):
    emu.bigquery.create_dataset(PROJECT, "ds")
    emu.bigquery.create_table(PROJECT, "ds", "empty", [{"name": "x", "type": "INT64"}])
    session = _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/empty")
    assert list(session.streams) == [] and session.estimated_row_count == 0
    schema = pa.ipc.read_schema(pa.py_buffer(session.arrow_schema.serialized_schema))
    assert schema.names == ["x"]


def test_read_from_an_offset_and_resume_after_a_dropped_stream(read_client, emu, monkeypatch):
    monkeypatch.setattr(service_module, "RESPONSE_BYTES", 64)  # several responses per stream
    table = _numbers(emu, count=50)
    session = _session(read_client, table)
    name = session.streams[0].name
    assert _keys(read_client, name, offset=45) == [45, 46, 47, 48, 49]
    assert list(read_client.read_rows(name, offset=50)) == []  # at the end: no response at all
    with pytest.raises(exceptions.OutOfRange):
        _keys(read_client, name, offset=51)
    responses = list(read_client.read_rows(name, offset=10))
    assert len(responses) > 1 and "arrow_schema" in responses[0] and "arrow_schema" not in responses[1]
    assert responses[0].stats.progress.at_response_start == pytest.approx(0.2)

    original = service_module.ReadService.read_rows
    dropped = []

    def flaky(self, request):
        for index, response in enumerate(original(self, request)):
            if index == 2 and not dropped:
                dropped.append(request.offset)
                raise exceptions.ServiceUnavailable("connection reset")
            yield response

    monkeypatch.setattr(service_module.ReadService, "read_rows", flaky)
    reader = read_client.read_rows(name)
    keys = [k for page in reader.rows().pages for k in page.to_arrow().column("k").to_pylist()]
    assert keys == list(range(50)) and dropped == [0]  # reconnected at the next unread row


def test_table_deleted_mid_session_is_not_found(read_client, emu, client, monkeypatch):
    monkeypatch.setattr(service_module, "RESPONSE_BYTES", 64)
    table = _numbers(emu, count=50)
    session = _session(read_client, table)
    stream = iter(read_client.read_rows(session.streams[0].name))
    first = next(stream)
    assert first.row_count > 0
    client.delete_table(f"{PROJECT}.ds.nums")
    with pytest.raises(exceptions.NotFound, match="there was an error operating on .*Not found: Table"):
        list(stream)
    with pytest.raises(exceptions.NotFound):
        list(read_client.read_rows(session.streams[0].name))
    emu.clock.advance(1)
    _numbers(emu, count=3)  # a new table of the same name is not the session's table
    with pytest.raises(exceptions.NotFound):
        list(read_client.read_rows(session.streams[0].name))


def test_session_errors(read_client, emu, client, all_types):
    with pytest.raises(exceptions.NotFound, match=f"Not found: Table {PROJECT}:ds.missing"):
        _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/missing")
    with pytest.raises(exceptions.NotFound, match="Not found: Dataset"):
        _session(read_client, f"projects/{PROJECT}/datasets/nods/tables/t")
    with pytest.raises(exceptions.InvalidArgument, match="request failed: data format unspecified"):
        _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/all", types.DataFormat.DATA_FORMAT_UNSPECIFIED)
    with pytest.raises(exceptions.InvalidArgument, match="do not exist in the table schema: nope, r.nope"):
        _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/all", selected_fields=["i", "nope", "r.nope"])
    with pytest.raises(exceptions.InvalidArgument, match="invalid table"):
        _session(read_client, "datasets/ds/tables/all")
    client.query("CREATE VIEW ds.v AS SELECT i FROM ds.all").result()
    with pytest.raises(exceptions.InvalidArgument, match="non-table entities cannot be read with the storage API"):
        _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/v")
    with pytest.raises(exceptions.NotFound, match="there was an error operating on"):
        list(read_client.read_rows(f"projects/{PROJECT}/locations/us/sessions/nope/streams/nope"))


def test_snapshot_time(read_client, emu, all_types):
    table = f"projects/{PROJECT}/datasets/ds/tables/all"

    def at(instant):
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(instant)
        requested = types.ReadSession(table=table, data_format=types.DataFormat.ARROW,
                                      table_modifiers=types.ReadSession.TableModifiers(snapshot_time=stamp))
        return read_client.create_read_session(parent=f"projects/{PROJECT}", read_session=requested)

    emu.clock.advance(60)
    assert at(emu.clock.now() - dt.timedelta(seconds=30)).estimated_row_count == 3
    with pytest.raises(exceptions.InvalidArgument, match="before the table was created"):
        at(emu.clock.now() - dt.timedelta(days=1))
    with pytest.raises(exceptions.InvalidArgument, match="in the future"):
        at(emu.clock.now() + dt.timedelta(seconds=1))
    emu.bigquery.insert_rows(PROJECT, "ds", "all", [{"i": "4"}])
    emu.clock.advance(1)
    with pytest.raises(exceptions.InvalidArgument, match="keeps no table history"):
        at(emu.clock.now() - dt.timedelta(seconds=30))


def test_sessions_read_their_snapshot_and_expire_after_six_hours(read_client, emu):
    table = _numbers(emu, count=5)
    session = _session(read_client, table)
    emu.bigquery.insert_rows(PROJECT, "ds", "nums", [{"k": "99"}])
    assert _keys(read_client, session.streams[0].name) == [0, 1, 2, 3, 4]
    emu.clock.advance(dt.timedelta(hours=6))
    with pytest.raises(exceptions.FailedPrecondition, match="expired"):
        _keys(read_client, session.streams[0].name)


def test_service_account_credentials_the_emulator_minted(emu, all_types):
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_info(emu.service_account_info(PROJECT))
    read_client = bigquery_storage.BigQueryReadClient(credentials=credentials)
    session = _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/all")
    assert read_client.read_rows(session.streams[0].name).to_arrow().num_rows == 3
    client = bigquery.Client(project=PROJECT, credentials=credentials)
    assert len(client.query("SELECT * FROM ds.all").to_dataframe()) == 3


def test_closed_client_cannot_call(read_client, all_types):
    read_client.transport.close()
    with pytest.raises(ValueError, match="closed channel"):
        _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/all")


# ------------------------------------------------------------------------------------------
# Installation and restoration
# ------------------------------------------------------------------------------------------
def test_client_library_is_restored_after_the_emulator():
    from google.cloud.bigquery import _pandas_helpers
    from google.cloud.bigquery_storage_v1.services.big_query_read.client import BigQueryReadClient
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports.grpc import (
        BigQueryReadGrpcTransport,
    )

    before = (BigQueryReadClient.get_transport_class("grpc"), _pandas_helpers._PROGRESS_INTERVAL)
    with Emulator() as emulator:
        assert BigQueryReadClient.get_transport_class("grpc") is not BigQueryReadGrpcTransport
        inside = bigquery_storage.BigQueryReadClient(credentials=AnonymousCredentials())
        endpoint = bigquery_storage.BigQueryReadClient(credentials=AnonymousCredentials(),
                                                       client_options={"api_endpoint": "127.0.0.1:1"})
        assert isinstance(endpoint.transport, BigQueryReadGrpcTransport)  # another endpoint: real gRPC
    emulator.close()
    assert (BigQueryReadClient.get_transport_class("grpc"), _pandas_helpers._PROGRESS_INTERVAL) == before
    assert before[0] is BigQueryReadGrpcTransport
    assert not isinstance(inside.transport, BigQueryReadGrpcTransport)


def test_storage_package_imported_after_entering_is_patched_as_it_loads():
    script = """
import warnings
from emulator import Emulator
from emulator.bigquery.storage import service
with Emulator() as emu:
    from google.cloud import bigquery  # imports google-cloud-bigquery-storage now
    client = emu.bigquery_client(project="p")
    client.query("CREATE SCHEMA d").result()
    client.query("CREATE TABLE d.t AS SELECT n FROM UNNEST(GENERATE_ARRAY(1, 5)) AS n").result()
    created = []
    original = service.ReadService.create_read_session
    service.ReadService.create_read_session = lambda self, r: created.append(1) or original(self, r)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        frame = client.list_rows("p.d.t").to_dataframe()
    print(len(frame), len(created))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["5", "1"]


# ------------------------------------------------------------------------------------------
# Server mode: real gRPC on 127.0.0.1
# ------------------------------------------------------------------------------------------
def test_grpc_server_serves_the_same_api():
    # gRPC computes call deadlines from time.time(), which an active emulator freezes in 2023:
    # the server runs for the backend whether or not the emulator is active, so the client
    # here talks to it from outside (as another process would).
    emu = Emulator()
    with emu:
        emu.bigquery.create_dataset(PROJECT, "ds")
        emu.bigquery.create_table(PROJECT, "ds", "all", ALL_TYPES)
        emu.bigquery.insert_rows(PROJECT, "ds", "all", ROWS)
    server, port = storage_api.serve_grpc(emu.bigquery)
    try:
        remote = storage_api.read_client(port)
        session = _session(remote, f"projects/{PROJECT}/datasets/ds/tables/all", selected_fields=["i", "a", "j"],
                           row_restriction="i < 3")
        table = remote.read_rows(session.streams[0].name).to_arrow()
        assert table.to_pylist() == [{"i": 1, "a": [0.5, 1.5], "j": '{"a":[1,2]}'}, {"i": 2, "a": [], "j": "[]"}]
        assert table.schema.field("a").type == pa.list_(pa.float64())
        assert table.schema.field("j").metadata == {b"ARROW:extension:name": b"google:sqlType:json"}
        split = remote.split_read_stream(request={"name": session.streams[0].name, "fraction": 0.5})
        assert remote.read_rows(split.remainder_stream.name).to_arrow().column("i").to_pylist() == [2]
        with pytest.raises(exceptions.NotFound, match="Not found: Table"):
            _session(remote, f"projects/{PROJECT}/datasets/ds/tables/missing")
        with pytest.raises(exceptions.InvalidArgument, match="Row filter"):
            _session(remote, f"projects/{PROJECT}/datasets/ds/tables/all", row_restriction="nope = 1")
        with pytest.raises(exceptions.NotFound, match="there was an error operating on"):
            list(remote.read_rows(f"{session.name}/streams/nope"))
        remote.transport.close()
    finally:
        server.stop(grace=None)
        emu.close()


def test_grpc_server_binds_loopback_only(emu):
    with pytest.raises(ValueError, match="loopback"):
        storage_api.serve_grpc(emu.bigquery, host="0.0.0.0")


def test_datetimes_before_year_1000_read_the_same_on_both_paths(client, emu):
    """Found by the REST/Storage property: the REST encoder wrote year 641 as '641-…' (strftime)."""
    emu.bigquery.create_dataset(PROJECT, "ds")
    emu.bigquery.create_table(PROJECT, "ds", "old", [{"name": "dt", "type": "DATETIME"}, {"name": "t", "type": "TIME"}])
    emu.bigquery.insert_rows(PROJECT, "ds", "old", [{"dt": "0641-01-01T00:00:00", "t": "00:00:01"}])
    rest = client.list_rows(f"{PROJECT}.ds.old").to_dataframe(create_bqstorage_client=False)
    assert rest["dt"][0] == dt.datetime(641, 1, 1) and rest["t"][0] == dt.time(0, 0, 1)
    pandas.testing.assert_frame_equal(client.list_rows(f"{PROJECT}.ds.old").to_dataframe(), rest)


# ------------------------------------------------------------------------------------------
# ARROW-format query results (query_and_wait(..., query_results_format="ARROW"), beta)
# ------------------------------------------------------------------------------------------
def test_arrow_format_query_results_read_the_rest_from_the_job_stream(client, emu, monkeypatch):
    from google.cloud.bigquery import enums

    opened = []
    original = service_module.ReadService._read_job_stream

    def spy(self, name, project, job_id, offset):
        opened.append(offset)
        return original(self, name, project, job_id, offset)

    monkeypatch.setattr(service_module.ReadService, "_read_job_stream", spy)
    sql = "SELECT x, CAST(x AS STRING) AS s FROM UNNEST(GENERATE_ARRAY(1, 1000)) AS x ORDER BY x"
    rows = client.query_and_wait(sql, page_size=100, query_results_format=enums.QueryResultsFormat.ARROW)
    table = pa.Table.from_batches(list(rows.to_arrow_iterable()))
    assert table.column("x").to_pylist() == list(range(1, 1001)) and table.column("s")[0].as_py() == "1"
    assert opened == [100]  # the first page came inline, the other 900 rows from the job's stream
    limited = client.query_and_wait(sql, page_size=100, max_results=150, query_results_format="ARROW").to_arrow()
    assert limited.column("x").to_pylist() == list(range(1, 151))
    inline = client.query_and_wait("SELECT 1 AS a", query_results_format="ARROW").to_dataframe()
    assert inline["a"].tolist() == [1] and opened == [100, 100]


def test_job_default_stream(read_client, client):
    job = client.query("SELECT x FROM UNNEST(GENERATE_ARRAY(1, 5)) AS x")
    job.result()
    name = f"projects/{PROJECT}/locations/US/jobs/{job.job_id}/streams/_default"
    assert read_client.read_rows(name, offset=3).to_arrow().column("x").to_pylist() == [4, 5]
    with pytest.raises(exceptions.NotFound, match="there was an error operating on"):
        list(read_client.read_rows(f"projects/{PROJECT}/locations/US/jobs/nope/streams/_default"))
    client.query("CREATE SCHEMA ds").result()
    config = bigquery.QueryJobConfig(destination=f"{PROJECT}.ds.out")
    explicit = client.query("SELECT 1 AS x", job_config=config)
    explicit.result()
    with pytest.raises(exceptions.InvalidArgument, match="explicitly-specified destination tables"):
        list(read_client.read_rows(f"projects/{PROJECT}/locations/US/jobs/{explicit.job_id}/streams/_default"))


def test_result_column_whose_data_is_not_its_schema_type_reads_as_on_rest(client):
    """A tuple literal's result column is reported as STRING while DuckDB holds a row value: the
    Storage path used to fail casting it; both paths now give the same text."""
    sql = "SELECT (1, 'a') AS s, STRUCT(2 AS x, 'b') AS p"
    rest = [dict(row.items()) for row in client.query_and_wait(sql)]
    assert client.query(sql).to_arrow().to_pylist() == rest
    assert client.query_and_wait(sql, query_results_format="ARROW").to_arrow().to_pylist() == rest


def test_read_client_with_application_default_credentials(emu, all_types):
    """No credentials given: google.auth.default() finds the emulator's, as the REST client does."""
    read_client = bigquery_storage.BigQueryReadClient()
    session = _session(read_client, f"projects/{PROJECT}/datasets/ds/tables/all")
    assert read_client.read_rows(session.streams[0].name).to_arrow().num_rows == 3
