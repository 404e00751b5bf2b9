"""The engine over HTTP: inference and the inference logs (plateau).

Inference is served at both URLs the SDKs use (``Deployment._url``):

* ``POST {api}/v1/api/pipelines/infer/{deploy_id}-{id}/{pipeline}`` (any ``api_endpoint``);
* ``POST http://engine-lb.{deploy_id}-{id}:29502/pipelines/{pipeline}`` — the in-cluster URL the
  SDK picks when ``api-lb`` is in its ``api_endpoint`` (the 2023.2 default ``http://api-lb:8080``);
  the emulator claims every ``engine-lb.*`` host on port 29502.

Bodies, by ``Content-Type``:

* ``application/json; format=pandas-records`` (the SDKs' DataFrames): a JSON array of records in,
  the engine's records out — flat keys joined by ``dataset.separator``, or nested objects
  without one (the engine's raw shape, as ``curl`` shows it);
* ``application/vnd.apache.arrow.file``: an Arrow IPC file in and out (IPC streams are read too);
* ``application/json`` (``format=wallaroo``, the SDKs' dict/list input): nested records, all
  fields, no dataset parameters (as the SDKs send none).

``dataset[]`` (default ``*``), ``dataset.exclude[]`` (default: nothing) and ``dataset.separator``
select and name the fields (:meth:`emulator.wallaroo.inference.EngineResult.selected`).

Errors (:class:`emulator.wallaroo.errors.InferenceFailed`): 400 for input the model cannot take,
404 when the deployment is unknown or undeployed, **503 while the deployment is starting** (the
SDKs retry 503 ten times with backoff, during which the virtual clock passes and the deployment
becomes ``Running``), 501 for a model the emulator cannot run. The body has the engine's shape of
the profile: newest ``{"code", "status": "Error", "error", "source": "engine"}`` (the SDK's
"fitzroy" errors → ``InferenceError: Inference failed: [400] ...``); 2023.2 a list
``[{"error_type", "error"}]``, the shape that SDK reads.

Logs: ``POST /v1/logs/topic/{topic}/records`` (``page_size``, ``order``, ``time.start``/``time.end``,
dataset parameters) answers an Arrow IPC file whose schema metadata ``status`` is JSON
``{"status": "All" | "RecordLimited" | "SchemaChange", "next": null}``.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

from emulator.transport import Request, Response
from emulator.wallaroo.errors import InferenceFailed, InvalidRequest, NotFound
from emulator.wallaroo.wire import SERVICE, guarded

ARROW_FILE = "application/vnd.apache.arrow.file"
ARROW_STREAM = "application/vnd.apache.arrow.stream"
#: The in-cluster engine host the 2023.2 default endpoint infers through.
ENGINE_HOST_PATTERN = r"http://engine-lb\.(?P<deployment>[A-Za-z0-9-]+):29502"


class EngineApi:
    def __init__(self, emu: Any) -> None:
        self.emu = emu

    @property
    def backend(self) -> Any:
        return self.emu.wallaroo

    # -- inference ------------------------------------------------------------------------------
    def infer_api(self, request: Request) -> Response:
        return self._infer(request, request.params["deployment"], request.params["pipeline"])

    def infer_engine(self, request: Request) -> Response:
        import re

        match = re.match(ENGINE_HOST_PATTERN, request.host)
        if match is None:  # pragma: no cover - the router only sends such hosts here
            return self._error(InferenceFailed("NotFound", f"unknown engine host {request.host}", 404))
        return self._infer(request, match.group("deployment"), request.params["pipeline"])

    def _infer(self, request: Request, deployment_name: str, pipeline_name: str) -> Response:
        from emulator.wallaroo.inference import gc_paused

        with gc_paused():  # JSON rows are many small objects (see gc_paused)
            return self._infer_paused(request, deployment_name, pipeline_name)

    def _infer_paused(self, request: Request, deployment_name: str, pipeline_name: str) -> Response:
        try:
            pipeline_id = self._pipeline_for(deployment_name, pipeline_name)
            content_type = request.content_type.lower()
            if content_type.startswith((ARROW_FILE, ARROW_STREAM)):
                return self._infer_arrow(request, pipeline_id)
            if content_type.startswith("application/json") and "pandas-records" in content_type:
                return self._infer_records(request, pipeline_id)
            if content_type.startswith("application/json") or not content_type:
                data = _json(request.body)
                return _json_response(self.backend.infer_records(pipeline_id, data))
            raise InferenceFailed("UnsupportedMediaType",
                                  f"unsupported Content-Type {request.content_type!r}: send "
                                  f"'application/json; format=pandas-records' or '{ARROW_FILE}'", 415)
        except InferenceFailed as exc:
            return self._error(exc)

    def _pipeline_for(self, deployment_name: str, pipeline_name: str) -> int:
        try:
            record = self.backend.live_deployment(deployment_name)
        except NotFound:
            raise InferenceFailed("NotFound", f"deployment {deployment_name} not found", 404) from None
        pipeline = self.backend.pipeline(record.pipeline_id)
        if pipeline.name != pipeline_name:
            raise InferenceFailed("NotFound", f"pipeline {pipeline_name} is not served by deployment "
                                              f"{deployment_name}", 404)
        if not record.deployed:
            raise InferenceFailed("NotDeployed", f"pipeline '{pipeline_name}' is not deployed", 404)
        return pipeline.id

    @staticmethod
    def _selection(request: Request) -> tuple[list[str] | None, list[str], str | None]:
        dataset = request.query.get("dataset[]") or None
        exclude = request.query.get("dataset.exclude[]") or []
        return dataset, exclude, request.arg("dataset.separator")

    def _infer_records(self, request: Request, pipeline_id: int) -> Response:
        from emulator.wallaroo import inference

        data = _json(request.body)
        if not isinstance(data, list):
            raise InferenceFailed("InvalidInput", "a pandas-records body must be a JSON array of objects")
        result = self.backend.run_inference(pipeline_id, inference.frame_from_records(data))
        dataset, exclude, separator = self._selection(request)
        return _json_response(result.records(dataset, exclude, separator, numpy_rows=True))

    def _infer_arrow(self, request: Request, pipeline_id: int) -> Response:
        import pyarrow as pa

        try:
            try:
                table = pa.ipc.open_file(pa.BufferReader(request.body)).read_all()
            except pa.ArrowInvalid:
                table = pa.ipc.open_stream(pa.BufferReader(request.body)).read_all()
        except pa.ArrowInvalid as exc:
            raise InferenceFailed("InvalidInput", f"the body is not an Arrow IPC file: {exc}") from None
        result = self.backend.run_inference(pipeline_id, table)
        dataset, exclude, separator = self._selection(request)
        reply = result.table(dataset, exclude, separator or ".", engine=True)
        return Response(200, _arrow_file(reply), {"Content-Type": ARROW_FILE})

    def _error(self, exc: InferenceFailed) -> Response:
        if self.emu.sdk == "2023.2":
            return Response.json([{"error_type": exc.error_type, "error": exc.message}], exc.status)
        return Response.json({"code": exc.status, "status": "Error", "error": exc.message, "source": "engine"},
                             exc.status)

    # -- logs -----------------------------------------------------------------------------------
    def log_records(self, request: Request) -> Response:
        pipeline, failures = self.backend.pipeline_by_topic(request.params["topic"])
        start = _instant(request.arg("time.start"), "time.start")
        end = _instant(request.arg("time.end"), "time.end")
        page_size = request.arg("page_size")
        try:
            limit = int(page_size) if page_size is not None else None
        except ValueError:
            raise InvalidRequest(f"page_size: invalid digit found in string {page_size!r}") from None
        result, status = self.backend.log_records(pipeline.id, start, end, limit, False if failures else None)
        dataset = request.query.get("dataset[]") or None
        exclude = request.query.get("dataset.exclude[]") or []
        separator = request.arg("dataset.separator") or "."
        import pyarrow as pa

        table = (result.table(dataset, exclude, separator, engine=True) if result is not None
                 else pa.table({}))
        metadata = {b"status": json.dumps({"status": status, "next": None}).encode()}
        return Response(200, _arrow_file(table.replace_schema_metadata(metadata)), {"Content-Type": ARROW_FILE})

    def log_partitions(self, request: Request) -> Response:
        """``GET /v1/logs/topic/{topic}``: one partition spanning the logged rows (``get_raw_logs``)."""
        pipeline, failures = self.backend.pipeline_by_topic(request.params["topic"])
        rows = 0 if failures else sum(batch.n for batch in pipeline.log)
        return Response.json({"partitions": {"engine-0": {"start": 0, "end": rows}} if rows else {}})


def _json(body: bytes) -> Any:
    """A JSON body, parsed with orjson (the stdlib's float parsing costs ~20 ms per 1,000 rows of 18)."""
    import orjson

    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InferenceFailed("InvalidInput", f"the body is not valid JSON: {exc}") from None


def _json_response(payload: Any) -> Response:
    """A JSON answer written by orjson (shortest float repr, as the stdlib; ~10x faster on floats)."""
    import orjson

    return Response(200, orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY),
                    {"Content-Type": "application/json"})


def _instant(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"{name}: {text!r} is not an RFC 3339 timestamp") from None


def _arrow_file(table: Any) -> bytes:
    import pyarrow as pa

    sink = io.BytesIO()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def register(router: Any, emu: Any) -> EngineApi:
    api = EngineApi(emu)
    router.add_route(SERVICE, "POST", r"/v1/api/pipelines/infer/(?P<deployment>[^/]+)/(?P<pipeline>[^/]+)",
                     guarded(api.infer_api))
    router.add_route(SERVICE, "POST", r"/v1/logs/topic/(?P<topic>[^/]+)/records", guarded(api.log_records))
    router.add_route(SERVICE, "GET", r"/v1/logs/topic/(?P<topic>[^/]+)", guarded(api.log_partitions))
    router.add_route(ENGINE_SERVICE, "POST", r"/pipelines/(?P<pipeline>[^/]+)", guarded(api.infer_engine))
    router.serve_host_pattern(ENGINE_HOST_PATTERN, ENGINE_SERVICE)
    return api


#: The engines' in-cluster hosts are their own service (only ``/pipelines/{name}`` is served there).
ENGINE_SERVICE = "wallaroo-engine"
