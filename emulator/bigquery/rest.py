"""BigQuery REST v2 adapter: parse the request, call the backend, encode BigQuery's JSON.

Thin by design: behaviour lives in :mod:`emulator.bigquery.backend`. Backend errors are mapped
here, once, to BigQuery's error envelope (HTTP status + ``errors[].reason``) so the real client
raises ``NotFound``, ``BadRequest``, ``Conflict``, ``Forbidden``... Failed query jobs answer
HTTP 200 with ``status.errorResult`` as BigQuery does; jobs.query answers failures with a 4xx.
Deterministic failures never get a 5xx (the client would retry them for minutes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from emulator.bigquery import types as bqtypes
from emulator.bigquery.anonymous import advertised_destination
from emulator.bigquery.auth import token_endpoint
from emulator.bigquery.backend import BigQueryBackend, DatasetMeta, Job, TableMeta
from emulator.bigquery.catalog import DATASET_OPTIONS, TABLE_OPTIONS
from emulator.bigquery.errors import BigQueryError, Invalid, NotFound, PayloadTooLarge
from emulator.ids import stable_number
from emulator.transport import Request, Response, Router

API = "/bigquery/v2"
UPLOAD = "/upload/bigquery/v2"
_P = r"(?P<project>[^/]+)"
_D = r"(?P<dataset>[^/]+)"
_T = r"(?P<table>[^/]+)"
_J = r"(?P<job>[^/]+)"
_R = r"(?P<routine>[^/]+)"
#: BigQuery refuses HTTP request bodies over 10 MB for insertAll/jobs.query (payload limit).
MAX_REQUEST_BYTES = 10 * 1024 * 1024
#: Rows per page when the client does not ask for a page size.
DEFAULT_PAGE_ROWS = 100_000


def register_routes(router: Router, backend: BigQueryBackend) -> None:
    """Register every BigQuery route of ``backend`` on ``router`` under the service ``bigquery``."""
    api = _Api(backend)
    add = router.add_route
    s = "bigquery"
    add(s, "POST", "/token", token_endpoint)
    add(s, "GET", f"{API}/projects", api.list_projects)
    add(s, "GET", f"{API}/projects/{_P}/serviceAccount", api.wrap(api.service_account))
    add(s, "POST", f"{API}/projects/{_P}/datasets", api.wrap(api.insert_dataset))
    add(s, "GET", f"{API}/projects/{_P}/datasets", api.wrap(api.list_datasets))
    add(s, "GET", f"{API}/projects/{_P}/datasets/{_D}", api.wrap(api.get_dataset))
    add(s, "PATCH", f"{API}/projects/{_P}/datasets/{_D}", api.wrap(api.patch_dataset))
    add(s, "PUT", f"{API}/projects/{_P}/datasets/{_D}", api.wrap(api.patch_dataset))
    add(s, "DELETE", f"{API}/projects/{_P}/datasets/{_D}", api.wrap(api.delete_dataset))
    add(s, "POST", f"{API}/projects/{_P}/datasets/{_D}/tables", api.wrap(api.insert_table))
    add(s, "GET", f"{API}/projects/{_P}/datasets/{_D}/tables", api.wrap(api.list_tables))
    add(s, "GET", f"{API}/projects/{_P}/datasets/{_D}/tables/{_T}", api.wrap(api.get_table))
    add(s, "PATCH", f"{API}/projects/{_P}/datasets/{_D}/tables/{_T}", api.wrap(api.patch_table))
    add(s, "PUT", f"{API}/projects/{_P}/datasets/{_D}/tables/{_T}", api.wrap(api.patch_table))
    add(s, "DELETE", f"{API}/projects/{_P}/datasets/{_D}/tables/{_T}", api.wrap(api.delete_table))
    add(s, "POST", f"{API}/projects/{_P}/datasets/{_D}/tables/{_T}:(?P<iam>getIamPolicy|setIamPolicy|testIamPermissions)",
        api.wrap(api.iam_policy))
    add(s, "POST", f"{API}/projects/{_P}/datasets/{_D}/tables/{_T}/insertAll", api.wrap(api.insert_all))
    add(s, "GET", f"{API}/projects/{_P}/datasets/{_D}/tables/{_T}/data", api.wrap(api.list_table_data))
    add(s, "POST", f"{API}/projects/{_P}/datasets/{_D}/routines", api.wrap(api.insert_routine))
    add(s, "GET", f"{API}/projects/{_P}/datasets/{_D}/routines", api.wrap(api.list_routines))
    add(s, "GET", f"{API}/projects/{_P}/datasets/{_D}/routines/{_R}", api.wrap(api.get_routine))
    add(s, "PUT", f"{API}/projects/{_P}/datasets/{_D}/routines/{_R}", api.wrap(api.update_routine))
    add(s, "DELETE", f"{API}/projects/{_P}/datasets/{_D}/routines/{_R}", api.wrap(api.delete_routine))
    add(s, "POST", f"{API}/projects/{_P}/jobs", api.wrap(api.insert_job))
    add(s, "GET", f"{API}/projects/{_P}/jobs", api.wrap(api.list_jobs))
    add(s, "GET", f"{API}/projects/{_P}/jobs/{_J}", api.wrap(api.get_job))
    add(s, "POST", f"{API}/projects/{_P}/jobs/{_J}/cancel", api.wrap(api.cancel_job))
    add(s, "DELETE", f"{API}/projects/{_P}/jobs/{_J}/delete", api.wrap(api.delete_job))
    add(s, "GET", f"{API}/projects/{_P}/queries/{_J}", api.wrap(api.get_query_results))
    add(s, "POST", f"{API}/projects/{_P}/queries", api.wrap(api.query))
    add(s, "POST", f"{UPLOAD}/projects/{_P}/jobs", api.wrap(api.upload_job))
    add(s, "PUT", f"{UPLOAD}/projects/{_P}/jobs", api.wrap(api.upload_chunk))


def error_response(exc: BigQueryError) -> Response:
    body = {"error": {"code": exc.status, "message": exc.message, "errors": [exc.to_error()],
                      "status": exc.grpc_status}}
    return Response.json(body, exc.status)


class _Api:
    def __init__(self, backend: BigQueryBackend) -> None:
        self.b = backend
        self._uploads: dict[str, dict[str, Any]] = {}

    def wrap(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            try:
                return handler(request)
            except BigQueryError as exc:
                return error_response(exc)
            except json.JSONDecodeError as exc:
                return error_response(Invalid(f"Invalid JSON payload received. {exc.msg}"))
            except Exception as exc:  # noqa: BLE001
                # An emulator bug must not turn into a 5xx: the client would retry it for minutes.
                return error_response(Invalid(f"wallaroo-emulator could not handle {request.method} "
                                              f"{request.path}: {type(exc).__name__}: {exc}"))
        return run

    # -- projects ---------------------------------------------------------------------------
    def list_projects(self, request: Request) -> Response:
        projects = self.b.list_projects()
        return Response.json({"kind": "bigquery#projectList", "projects": [
            {"kind": "bigquery#project", "id": p, "numericId": str(stable_number(p)),
             "projectReference": {"projectId": p}, "friendlyName": p} for p in projects], "totalItems": len(projects)})

    def service_account(self, request: Request) -> Response:
        """projects.getServiceAccount: the project's BigQuery service agent (the account KMS keys are
        granted to), ``bq-<project number>@bigquery-encryption.iam.gserviceaccount.com``."""
        number = stable_number(request.params["project"])
        return Response.json({"kind": "bigquery#getServiceAccountResponse",
                              "email": f"bq-{number}@bigquery-encryption.iam.gserviceaccount.com"})

    # -- datasets ---------------------------------------------------------------------------
    def _dataset_resource(self, meta: DatasetMeta) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "kind": "bigquery#dataset", "etag": _etag(meta.modified_ms), "id": f"{meta.project}:{meta.dataset}",
            "selfLink": f"{API}/projects/{meta.project}/datasets/{meta.dataset}",
            "datasetReference": {"datasetId": meta.dataset, "projectId": meta.project},
            "labels": meta.labels, "access": [], "creationTime": str(meta.created_ms),
            "lastModifiedTime": str(meta.modified_ms), "location": meta.location, "type": "DEFAULT",
        }
        resource.update(_optional_fields(meta, _DATASET_FIELDS))
        return resource

    def insert_dataset(self, request: Request) -> Response:
        body = _body(request)
        ref = body.get("datasetReference") or {}
        project = ref.get("projectId") or request.params["project"]
        dataset = ref.get("datasetId")
        if not dataset:
            raise Invalid("Required parameter is missing: datasetReference.datasetId")
        meta = self.b.create_dataset(project, dataset, labels=body.get("labels"), description=body.get("description"),
                                     friendly_name=body.get("friendlyName"),
                                     default_table_expiration_ms=body.get("defaultTableExpirationMs"),
                                     location=body.get("location"),
                                     options={attr: body[wire] for wire, attr in DATASET_OPTIONS.items()
                                              if body.get(wire) is not None})
        return Response.json(self._dataset_resource(meta))

    def list_datasets(self, request: Request) -> Response:
        project = request.params["project"]
        metas = self.b.list_datasets(project)
        label_filter = request.arg("filter")
        if label_filter:
            metas = [m for m in metas if _labels_match(m.labels, label_filter)]
        start, page = _paging(request, len(metas))
        chosen = metas[start:start + page]
        body: dict[str, Any] = {"kind": "bigquery#datasetList", "etag": _etag(len(metas)), "datasets": [
            {"kind": "bigquery#dataset", "id": f"{m.project}:{m.dataset}", "labels": m.labels, "location": m.location,
             "datasetReference": {"datasetId": m.dataset, "projectId": m.project}} for m in chosen]}
        if start + page < len(metas):
            body["nextPageToken"] = str(start + page)
        return Response.json(body)

    def get_dataset(self, request: Request) -> Response:
        return Response.json(self._dataset_resource(self.b.get_dataset(request.params["project"],
                                                                       request.params["dataset"])))

    def patch_dataset(self, request: Request) -> Response:
        body = _body(request)
        meta = self.b.update_dataset(request.params["project"], request.params["dataset"],
                                     _patch_changes(body, _DATASET_FIELDS))
        return Response.json(self._dataset_resource(meta))

    def delete_dataset(self, request: Request) -> Response:
        self.b.delete_dataset(request.params["project"], request.params["dataset"],
                              delete_contents=(request.arg("deleteContents", "false") or "").lower() == "true")
        return Response.empty(204)

    # -- tables -----------------------------------------------------------------------------
    def _table_resource(self, meta: TableMeta) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "kind": "bigquery#table", "etag": _etag(meta.modified_ms),
            "id": f"{meta.project}:{meta.dataset}.{meta.table}",
            "selfLink": f"{API}/projects/{meta.project}/datasets/{meta.dataset}/tables/{meta.table}",
            "tableReference": {"projectId": meta.project, "datasetId": meta.dataset, "tableId": meta.table},
            "labels": meta.labels, "schema": {"fields": meta.schema},
            "numBytes": "0", "numLongTermBytes": "0",
            "numRows": str(self.b.row_count(meta.project, meta.dataset, meta.table)),
            "creationTime": str(meta.created_ms), "lastModifiedTime": str(meta.modified_ms),
            "type": meta.kind, "location": self.b.get_dataset(meta.project, meta.dataset).location,
        }
        if meta.kind == "VIEW":
            resource["view"] = {"query": meta.view_query or "", "useLegacySql": False}
            resource.pop("numRows")
        resource.update(_optional_fields(meta, _TABLE_FIELDS))
        return resource

    def insert_table(self, request: Request) -> Response:
        body = _body(request)
        ref = body.get("tableReference") or {}
        project = ref.get("projectId") or request.params["project"]
        dataset = ref.get("datasetId") or request.params["dataset"]
        table = ref.get("tableId")
        if not table:
            raise Invalid("Required parameter is missing: tableReference.tableId")
        view = body.get("view") or None
        if view and view.get("useLegacySql"):
            raise Invalid("Legacy SQL views are not supported by wallaroo-emulator")
        meta = self.b.create_table(
            project, dataset, table, (body.get("schema") or {}).get("fields"),
            view_query=view.get("query") if view else None, labels=body.get("labels"),
            description=body.get("description"), friendly_name=body.get("friendlyName"),
            expiration_ms=body.get("expirationTime"),
            options={attr: body[wire] for wire, attr in TABLE_OPTIONS.items() if body.get(wire) is not None},
        )
        return Response.json(self._table_resource(meta))

    def list_tables(self, request: Request) -> Response:
        metas = self.b.list_tables(request.params["project"], request.params["dataset"])
        start, page = _paging(request, len(metas))
        chosen = metas[start:start + page]
        body: dict[str, Any] = {"kind": "bigquery#tableList", "etag": _etag(len(metas)), "tables": [
            {"kind": "bigquery#table", "id": f"{m.project}:{m.dataset}.{m.table}",
             "tableReference": {"projectId": m.project, "datasetId": m.dataset, "tableId": m.table},
             "type": m.kind, "labels": m.labels, "creationTime": str(m.created_ms)} for m in chosen],
            "totalItems": len(metas)}
        if start + page < len(metas):
            body["nextPageToken"] = str(start + page)
        return Response.json(body)

    def get_table(self, request: Request) -> Response:
        p = request.params
        return Response.json(self._table_resource(self.b.get_table(p["project"], p["dataset"], p["table"])))

    def patch_table(self, request: Request) -> Response:
        p = request.params
        body = _body(request)
        changes = _patch_changes(body, _TABLE_FIELDS)
        if "schema" in body:
            changes["schema"] = (body.get("schema") or {}).get("fields")
        meta = self.b.update_table(p["project"], p["dataset"], p["table"], changes)
        return Response.json(self._table_resource(meta))

    def delete_table(self, request: Request) -> Response:
        p = request.params
        self.b.delete_table(p["project"], p["dataset"], p["table"])
        return Response.empty(204)

    def iam_policy(self, request: Request) -> Response:
        """IAM is deliberately not emulated: a clear 400 instead of a route error."""
        raise Invalid(f"{request.params['iam']} is not supported by wallaroo-emulator: IAM policies are not emulated "
                      "(every caller may read and write every table)")

    # -- table data -------------------------------------------------------------------------
    def insert_all(self, request: Request) -> Response:
        if len(request.body) > MAX_REQUEST_BYTES:
            raise PayloadTooLarge(f"Request payload size exceeds the limit: {MAX_REQUEST_BYTES} bytes.")
        p = request.params
        body = _body(request)
        rows = body.get("rows")
        if not isinstance(rows, list):
            raise Invalid("No rows present in the request.")
        if body.get("templateSuffix"):
            raise Invalid("templateSuffix is not supported by wallaroo-emulator")
        errors = self.b.insert_rows(
            p["project"], p["dataset"], p["table"], [r.get("json") if isinstance(r, dict) else r for r in rows],
            skip_invalid_rows=bool(body.get("skipInvalidRows")),
            ignore_unknown_values=bool(body.get("ignoreUnknownValues")),
            insert_ids=[r.get("insertId") if isinstance(r, dict) else None for r in rows],
        )
        payload: dict[str, Any] = {"kind": "bigquery#tableDataInsertAllResponse"}
        if errors:
            payload["insertErrors"] = errors
        return Response.json(payload)

    def list_table_data(self, request: Request) -> Response:
        p = request.params
        start = _int_arg(request, "pageToken", None)
        if start is None:
            start = _int_arg(request, "startIndex", 0) or 0
        max_results = _int_arg(request, "maxResults", None)
        page = DEFAULT_PAGE_ROWS if max_results is None else max_results
        selected = request.arg("selectedFields")
        arrow, schema, total = self.b.read_rows(p["project"], p["dataset"], p["table"], start=start,
                                                max_results=page, selected_fields=selected.split(",") if selected else None)
        if request.arg("formatOptions.timestampOutputFormat") == "ISO8601_STRING":
            schema = _iso_timestamps(schema)
        rows = self.b.encode_rows(arrow, schema, int64_timestamps=_int64_ts(request))
        head: dict[str, Any] = {"kind": "bigquery#tableDataList", "etag": _etag(total), "totalRows": str(total)}
        if start + arrow.num_rows < total and page > 0:
            head["pageToken"] = str(start + arrow.num_rows)
        return _json_with_rows(head, rows)

    # -- routines ---------------------------------------------------------------------------
    def insert_routine(self, request: Request) -> Response:
        p = request.params
        return Response.json(self.b.routines.create(p["project"], p["dataset"], _body(request)))

    def get_routine(self, request: Request) -> Response:
        p = request.params
        return Response.json(self.b.routines.get(p["project"], p["dataset"], p["routine"]))

    def update_routine(self, request: Request) -> Response:
        p = request.params
        return Response.json(self.b.routines.update(p["project"], p["dataset"], p["routine"], _body(request)))

    def delete_routine(self, request: Request) -> Response:
        p = request.params
        self.b.routines.delete(p["project"], p["dataset"], p["routine"])
        return Response.empty(204)

    def list_routines(self, request: Request) -> Response:
        p = request.params
        routines = self.b.routines.list(p["project"], p["dataset"])
        start, page = _paging(request, len(routines))
        listed = ("etag", "routineReference", "routineType", "language", "creationTime", "lastModifiedTime")
        body: dict[str, Any] = {"routines": [{k: r[k] for k in listed if k in r} for r in routines[start:start + page]]}
        if start + page < len(routines):
            body["nextPageToken"] = str(start + page)
        return Response.json(body)

    # -- jobs -------------------------------------------------------------------------------
    def _new_job(self, project: str, body: dict[str, Any]) -> Job:
        ref = body.get("jobReference") or {}
        config = dict(body.get("configuration") or {})
        kinds = [k for k in ("query", "load", "copy", "extract") if k in config]
        if len(kinds) != 1:
            raise Invalid("Job configuration must contain exactly one of query, load, copy or extract")
        if isinstance(config.get("query"), dict) and config["query"].get("queryParameters"):
            config["query"] = {**config["query"],
                               "queryParameters": _string_values(config["query"]["queryParameters"])}
        return self.b.new_job(ref.get("projectId") or project, kinds[0].upper(), config, job_id=ref.get("jobId"),
                              location=ref.get("location"))

    def insert_job(self, request: Request) -> Response:
        body = _body(request)
        job = self._new_job(request.params["project"], body)
        self.b.register_job(job)
        self.b.run_job(job)
        return Response.json(self._job_resource(job))

    def _job_resource(self, job: Job) -> dict[str, Any]:
        configuration = json.loads(json.dumps(job.configuration))
        configuration["jobType"] = job.job_type
        # The anonymous result table, where the client reads results with the Storage Read API
        # (only for in-process clients, which reach that API: see emulator.bigquery.anonymous).
        destination = advertised_destination(self.b, job)
        if destination is not None:
            configuration["query"]["destinationTable"] = destination
        created = str(job.created_ms)
        statistics: dict[str, Any] = {"creationTime": created, "startTime": created, "endTime": created}
        if job.job_type == "QUERY":
            query_stats: dict[str, Any] = {"totalBytesProcessed": "0", "totalBytesBilled": "0",
                                           "cacheHit": job.cache_hit, "totalSlotMs": "0", "billingTier": 1}
            outcome = job.outcome
            if outcome is not None:
                query_stats["totalBytesProcessed"] = str(outcome.bytes_processed)
                query_stats["statementType"] = outcome.statement_type
                if outcome.dml_affected is not None:
                    query_stats["numDmlAffectedRows"] = str(outcome.dml_affected)
                    query_stats["dmlStats"] = _dml_stats(outcome.statement_type, outcome.dml_affected)
                if outcome.ddl_target is not None:
                    project, dataset, table = outcome.ddl_target
                    if outcome.ddl_operation:
                        query_stats["ddlOperationPerformed"] = outcome.ddl_operation
                    if table is not None:
                        query_stats["ddlTargetTable"] = {"projectId": project, "datasetId": dataset, "tableId": table}
                    else:
                        query_stats["ddlTargetDataset"] = {"projectId": project, "datasetId": dataset}
                if outcome.schema is not None:
                    query_stats["schema"] = {"fields": outcome.schema}
                if outcome.referenced:
                    query_stats["referencedTables"] = [{"projectId": p, "datasetId": d, "tableId": t}
                                                       for p, d, t in outcome.referenced]
                if outcome.rows is not None:
                    statistics["totalRows"] = str(outcome.rows.num_rows)
            statistics["query"] = query_stats
            statistics["totalBytesProcessed"] = query_stats["totalBytesProcessed"]
            statistics.update(_script_statistics(job))
        elif job.job_type == "LOAD":
            statistics["load"] = {"inputFiles": "1", "inputFileBytes": "0", "outputRows": str(job.output_rows or 0),
                                  "outputBytes": "0", "badRecords": "0"}
        elif job.job_type == "COPY":
            statistics["copy"] = {"copiedRows": str(job.output_rows or 0), "copiedLogicalBytes": "0"}
        resource: dict[str, Any] = {
            "kind": "bigquery#job", "etag": _etag(job.created_ms), "id": f"{job.project}:{job.location}.{job.job_id}",
            "selfLink": f"{API}/projects/{job.project}/jobs/{job.job_id}?location={job.location}",
            "user_email": job.user_email,
            "jobReference": {"projectId": job.project, "jobId": job.job_id, "location": job.location},
            "configuration": configuration, "statistics": statistics, "status": {"state": "DONE"},
            "principal_subject": f"serviceAccount:{job.user_email}", "jobCreationReason": {"code": "REQUESTED"},
        }
        if job.error is not None:
            error = job.error.to_error()
            resource["status"] = {"state": "DONE", "errorResult": error, "errors": [error]}
        return resource

    def get_job(self, request: Request) -> Response:
        job = self.b.get_job(request.params["project"], request.params["job"])
        return Response.json(self._job_resource(job))

    def list_jobs(self, request: Request) -> Response:
        project = request.params["project"]
        jobs = self.b.list_jobs(project, parent_job_id=request.arg("parentJobId") or None)
        start, page = _paging(request, len(jobs))
        chosen = jobs[start:start + page]
        out = []
        for job in chosen:
            resource = self._job_resource(job)
            resource["state"] = "DONE"
            if job.error is not None:
                resource["errorResult"] = job.error.to_error()
            out.append(resource)
        body: dict[str, Any] = {"kind": "bigquery#jobList", "etag": _etag(len(jobs)), "jobs": out}
        if start + page < len(jobs):
            body["nextPageToken"] = str(start + page)
        return Response.json(body)

    def cancel_job(self, request: Request) -> Response:
        job = self.b.get_job(request.params["project"], request.params["job"])
        return Response.json({"kind": "bigquery#jobCancelResponse", "job": self._job_resource(job)})

    def delete_job(self, request: Request) -> Response:
        self.b.delete_job(request.params["project"], request.params["job"])
        return Response.empty(204)

    def _results_body(self, job: Job, request: Request, kind: str, max_results: int | None, start: int,
                      int64_ts: bool) -> Response:
        head: dict[str, Any] = {
            "kind": kind,
            "jobReference": {"projectId": job.project, "jobId": job.job_id, "location": job.location},
            "jobComplete": True, "cacheHit": job.cache_hit, "totalBytesProcessed": "0",
        }
        outcome = job.outcome
        rows_text = None
        if outcome is not None:
            head["totalBytesProcessed"] = str(outcome.bytes_processed)
            if outcome.dml_affected is not None:
                head["numDmlAffectedRows"] = str(outcome.dml_affected)
                head["dmlStats"] = _dml_stats(outcome.statement_type, outcome.dml_affected)
            if outcome.schema is not None:
                head["schema"] = {"fields": outcome.schema}
            if outcome.rows is not None:
                total = outcome.rows.num_rows
                head["totalRows"] = str(total)
                page = DEFAULT_PAGE_ROWS if max_results is None else max_results
                if page > 0 and start < total:
                    chunk = outcome.rows.slice(start, page)
                    rows_text = self.b.encode_rows(chunk, outcome.schema or [], int64_timestamps=int64_ts)
                    if start + chunk.num_rows < total:
                        head["pageToken"] = str(start + chunk.num_rows)
                elif page == 0 and total > 0:
                    head["pageToken"] = str(start) if start else None
                    if head["pageToken"] is None:
                        head.pop("pageToken")
            elif outcome.dml_affected is None:
                head["totalRows"] = "0"
        return _json_with_rows(head, rows_text)

    def get_query_results(self, request: Request) -> Response:
        job = self.b.get_job(request.params["project"], request.params["job"])
        if job.job_type != "QUERY":
            raise Invalid(f"Job {job.project}:{job.location}.{job.job_id} is not a query job")
        if job.error is not None:
            return error_response(job.error)
        start = _int_arg(request, "pageToken", None)
        if start is None:
            start = _int_arg(request, "startIndex", 0) or 0
        return self._results_body(job, request, "bigquery#getQueryResultsResponse",
                                  _int_arg(request, "maxResults", None), start, _int64_ts(request))

    def query(self, request: Request) -> Response:
        if len(request.body) > MAX_REQUEST_BYTES:
            raise PayloadTooLarge(f"Request payload size exceeds the limit: {MAX_REQUEST_BYTES} bytes.")
        body = _body(request)
        project = request.params["project"]
        config: dict[str, Any] = {"query": {"query": body.get("query", ""),
                                            "useLegacySql": body.get("useLegacySql", True)}}
        for key in ("queryParameters", "parameterMode", "defaultDataset", "useQueryCache", "maximumBytesBilled",
                    "createSession", "connectionProperties"):
            if key in body:
                config["query"][key] = body[key]
        if body.get("dryRun"):
            config["dryRun"] = True
        if body.get("labels"):
            config["labels"] = body["labels"]
        if config["query"]["useLegacySql"] is not False:
            raise Invalid("Legacy SQL is not supported by wallaroo-emulator; set use_legacy_sql=False")
        job = self.b.new_job(project, "QUERY", config, location=body.get("location"))
        self.b.register_job(job)
        self.b.run_query_job(job)
        if job.error is not None:
            return error_response(job.error)
        int64_ts = bool((body.get("formatOptions") or {}).get("useInt64Timestamp"))
        if str(body.get("queryResultsFormat") or "").upper() == "ARROW" and job.outcome and job.outcome.rows is not None:
            response = self._arrow_results(job, request, body.get("maxResults"))
        else:
            response = self._results_body(job, request, "bigquery#queryResponse", body.get("maxResults"), 0,
                                          int64_ts)
        query_id = json.dumps(job.job_id.replace("job_", "q_")).encode()
        response.body = response.body[:-1] + b',"queryId":' + query_id + b"}"
        return response

    def _arrow_results(self, job: Job, request: Request, max_results: Any) -> Response:
        """An ``ARROW``-format jobs.query response (``queryResultsFormat``, beta in the client): the
        first page as a base64 Arrow record batch; the client reads the rest from the job's default
        Storage Read API stream. A client that cannot reach that API (another process) gets every
        row in the first page."""
        from emulator.bigquery.storage.formats import rest_arrow_page

        assert job.outcome is not None and job.outcome.rows is not None
        total = job.outcome.rows.num_rows
        page = total if max_results is None else min(int(max_results), total)
        if page < total and advertised_destination(self.b, job) is None:
            page = total
        head = json.loads(self._results_body(job, request, "bigquery#queryResponse", 0, 0, False).body)
        head.pop("pageToken", None)
        head.update(rest_arrow_page(job.outcome.rows, job.outcome.schema or [], page))
        head["pageRowCount"] = str(page)
        if page < total:
            head["pageToken"] = str(page)
        return Response.json(head)

    # -- uploads (load jobs with data) -----------------------------------------------------
    def upload_job(self, request: Request) -> Response:
        upload_type = request.arg("uploadType", "multipart")
        project = request.params["project"]
        if upload_type == "resumable":
            metadata = _body(request)
            upload_id = self.b.new_upload_id()
            self._uploads[upload_id] = {"metadata": metadata, "data": bytearray()}
            location = f"{request.host}{UPLOAD}/projects/{project}/jobs?uploadType=resumable&upload_id={upload_id}"
            return Response(200, b"", {"Location": location})
        if upload_type == "media":
            raise Invalid("uploadType=media needs job metadata; use multipart or resumable uploads")
        metadata, data = _parse_multipart(request)
        return self._run_load(project, metadata, data)

    def upload_chunk(self, request: Request) -> Response:
        upload_id = request.arg("upload_id")
        session = self._uploads.get(upload_id or "")
        if session is None:
            raise NotFound(f"Not found: upload session {upload_id}")
        session["data"].extend(request.body)
        content_range = next((v for k, v in request.headers.items() if k.lower() == "content-range"), "")
        # "bytes 0-99/200" (more to come), "bytes 0-99/*" (size unknown yet), "bytes */200" (final, empty)
        total = content_range.rsplit("/", 1)[-1] if "/" in content_range else ""
        if total == "*" or (total.isdigit() and len(session["data"]) < int(total)):
            return Response(308, b"", {"Range": f"bytes=0-{len(session['data']) - 1}"})
        del self._uploads[upload_id]
        return self._run_load(request.params["project"], session["metadata"], bytes(session["data"]))

    def _run_load(self, project: str, metadata: dict[str, Any], data: bytes) -> Response:
        job = self._new_job(project, metadata)
        if job.job_type != "LOAD":
            raise Invalid("Uploads must carry a load job configuration")
        self.b.register_job(job)
        self.b.run_load_job(job, data)
        return Response.json(self._job_resource(job))


# ------------------------------------------------------------------------------------------
def _body(request: Request) -> dict[str, Any]:
    body = request.json()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise Invalid("Invalid JSON payload received. Expected an object.")
    return body


#: Optional metadata: REST field name -> attribute of the backend's record.
_DATASET_FIELDS = {"description": "description", "friendlyName": "friendly_name",
                   "defaultTableExpirationMs": "default_table_expiration_ms", **DATASET_OPTIONS}
_TABLE_FIELDS = {"description": "description", "friendlyName": "friendly_name", "expirationTime": "expiration_ms",
                 **TABLE_OPTIONS}


def _string_values(node: Any) -> Any:
    """Query parameters as BigQuery keeps them: every ``parameterValue.value`` is a string (the API's
    field is a string; a JSON number or boolean sent there comes back as its text)."""
    if isinstance(node, list):
        return [_string_values(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "value" and not isinstance(value, str | dict | list) and value is not None:
            value = ("true" if value else "false") if isinstance(value, bool) else str(value)
        out[key] = _string_values(value)
    return out


def _optional_fields(meta: Any, fields: dict[str, str]) -> dict[str, Any]:
    """The optional metadata a resource shows: only what is set."""
    return {wire: getattr(meta, attr) for wire, attr in fields.items() if getattr(meta, attr) is not None}


def _patch_changes(body: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """What a patch/update body changes; a label set to null is removed, as in BigQuery."""
    changes = {attr: body[wire] for wire, attr in fields.items() if wire in body}
    if "labels" in body:
        changes["labels"] = {k: v for k, v in (body["labels"] or {}).items() if v is not None}
    return changes


def _etag(value: int) -> str:
    return f"emu{value:x}"


def _int_arg(request: Request, name: str, default: int | None) -> int | None:
    value = request.arg(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise Invalid(f"Invalid value for {name}: {value}") from None


def _iso_timestamps(schema: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``timestampOutputFormat=ISO8601_STRING``: picosecond TIMESTAMPs are answered as their full text
    (held as such: encoded like a STRING)."""
    return [{**f, "type": "STRING"} if bqtypes.is_pico(f) else f for f in schema]


def _int64_ts(request: Request) -> bool:
    return (request.arg("formatOptions.useInt64Timestamp", "false") or "").lower() == "true"


def _paging(request: Request, total: int) -> tuple[int, int]:
    start = _int_arg(request, "pageToken", 0) or 0
    page = _int_arg(request, "maxResults", None)
    return start, (page if page is not None and page > 0 else max(total, 1))


def _labels_match(labels: dict[str, str], expression: str) -> bool:
    for term in expression.split(" AND "):
        term = term.strip()
        if not term.startswith("labels."):
            continue
        key, _, value = term[len("labels."):].partition(":")
        if key not in labels or (value and labels[key] != value):
            return False
    return True


def _dml_stats(kind: str, affected: int) -> dict[str, str]:
    return {"insertedRowCount": str(affected if kind == "INSERT" else 0),
            "updatedRowCount": str(affected if kind in ("UPDATE", "MERGE") else 0),
            "deletedRowCount": str(affected if kind in ("DELETE", "TRUNCATE_TABLE") else 0)}


def _script_statistics(job: Job) -> dict[str, Any]:
    """Job statistics of scripts: a script's child count; a child's parent, statement and transaction."""
    out: dict[str, Any] = {}
    if job.child_count:
        out["numChildJobs"] = str(job.child_count)
    if job.parent_job_id is not None:
        out["parentJobId"] = job.parent_job_id
    if job.statement is not None:
        (start_line, start_column), (end_line, end_column) = job.statement.start, job.statement.end
        out["scriptStatistics"] = {"evaluationKind": "STATEMENT", "stackFrames": [
            {"startLine": start_line, "startColumn": start_column, "endLine": end_line, "endColumn": end_column,
             "text": job.statement.text}]}
    if job.transaction_id is not None:
        out["transactionInfo"] = {"transactionId": job.transaction_id}
    if job.session_id is not None:
        out["sessionInfo"] = {"sessionId": job.session_id}
    return out


def _json_with_rows(head: dict[str, Any], rows_text: str | None) -> Response:
    text = json.dumps(head, separators=(",", ":"))
    if rows_text is not None:
        text = text[:-1] + ',"rows":' + rows_text + "}"
    return Response(200, text.encode(), {"Content-Type": "application/json; charset=UTF-8"})


def _parse_multipart(request: Request) -> tuple[dict[str, Any], bytes]:
    """Split a ``multipart/related`` upload into its JSON metadata and its media bytes.

    Done by hand on bytes: the media part is binary (Parquet, Avro) and must not be touched.
    """
    content_type = request.content_type
    if "multipart" not in content_type:
        raise Invalid("Upload request must be multipart/related")
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise Invalid("Multipart upload without a boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    chunks = request.body.split(delimiter)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        head, sep, payload = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, payload = chunk.partition(b"\n\n")
        if payload.endswith(b"\r\n"):
            payload = payload[:-2]
        elif payload.endswith(b"\n"):
            payload = payload[:-1]
        parts.append(payload)
    if len(parts) != 2:
        raise Invalid("Multipart upload must have a metadata part and a media part")
    return json.loads(parts[0] or b"{}"), parts[1]
