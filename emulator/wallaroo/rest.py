"""The MLOps REST API (``/v1/api/...``) over the platform backend.

Every endpoint the SDKs 2023.2.1 and 2026.1.3 call (reference ``wallaroo-http-api.md`` §4-§6 and
the generated clients' contracts), plus the ones the API tutorials call with ``requests``. Each
handler parses its body (:class:`emulator.wallaroo.wire.Body`: a missing or mistyped field is a
400 naming it), makes one backend call and encodes the answer with the keys, status codes and
formats the SDKs' parsers require (UUIDs as text, RFC 3339 timestamps, enum values of the
profile). Errors are mapped once, by :func:`emulator.wallaroo.wire.guarded`.

Where the platform's answer is not recorded, the choice is documented on the handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.transport import Request, Response
from emulator.wallaroo.errors import InvalidRequest, NotEmulated, NotFound
from emulator.wallaroo.wire import SERVICE, Body, caller, guarded, iso, json_part, multipart, uuid_text

#: Architecture the emulated cluster runs on (``GET /v1/api/config``'s ``default_arch``).
DEFAULT_ARCH = "x86"


class MlopsApi:
    """The handlers; one instance per emulator (``emu.wallaroo`` is the backend)."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu

    # -- shared ---------------------------------------------------------------------------------
    @property
    def backend(self) -> Any:
        return self.emu.wallaroo

    def stores(self) -> tuple[Any, Any]:
        from emulator.wallaroo.tasks import stores_for

        return stores_for(self.emu)

    @property
    def profile(self) -> str:
        return self.emu.sdk

    # -- config ---------------------------------------------------------------------------------
    def config(self, request: Request) -> Response:
        """``GET /v1/api/config``: what ``wallaroo.Client()`` reads at construction (no auth needed)."""
        from emulator.wallaroo.orchestrations import PLATFORM_VERSIONS

        return Response.json({"default_arch": DEFAULT_ARCH,
                              "version": PLATFORM_VERSIONS.get(self.profile, PLATFORM_VERSIONS["2026.1"])})

    # -- workspaces -----------------------------------------------------------------------------
    def workspace_item(self, record: Any) -> dict[str, Any]:
        return {"id": record.id, "name": record.name, "created_at": iso(record.created_at),
                "created_by": record.created_by or "", "archived": record.archived,
                "models": list(record.model_ids), "pipelines": list(record.pipeline_ids)}

    def workspaces_list(self, request: Request) -> Response:
        Body.of(request).get("user_id", str)
        user = caller(request, self.backend)
        return Response.json({"workspaces": [self.workspace_item(w) for w in self.backend.list_workspaces(user)]})

    def workspaces_create(self, request: Request) -> Response:
        name = Body.of(request).require("workspace_name", str)
        record = self.backend.create_workspace(name, caller(request, self.backend))
        return Response.json({"workspace_id": record.id})

    # -- pipelines ------------------------------------------------------------------------------
    def _steps(self, definition: Any) -> list[list[int]]:
        """Model-version ids of a pipeline ``definition``'s ``ModelInference`` steps."""
        if definition is None:
            return []
        if not isinstance(definition, dict):
            raise InvalidRequest("definition: invalid type: expected a map")
        steps = definition.get("steps") or []
        if not isinstance(steps, list):
            raise InvalidRequest("definition.steps: invalid type: expected a sequence")
        result = []
        for index, step in enumerate(steps):
            inference = step.get("ModelInference") if isinstance(step, dict) else None
            if not isinstance(inference, dict) or not isinstance(inference.get("models"), list):
                kind = next(iter(step), None) if isinstance(step, dict) and step else step
                raise NotEmulated(f"definition.steps[{index}]: only ModelInference steps run in the emulator "
                                  f"(got {kind!r})")
            ids = []
            for model in inference["models"]:
                if not isinstance(model, dict) or not isinstance(model.get("version"), str):
                    raise InvalidRequest(f"definition.steps[{index}].models: each model needs "
                                         "`name`, `version` and `sha`")
                version = self.backend.model_version_by_uuid(model["version"])
                if model.get("sha") not in (None, version.sha):
                    raise InvalidRequest(f"model {model.get('name')!r} version {model['version']}: sha "
                                         f"{model.get('sha')!r} does not match the stored {version.sha}")
                ids.append(version.id)
            if ids:
                result.append(ids)
        return result

    def pipelines_create(self, request: Request) -> Response:
        body = Body.of(request)
        name = body.require("pipeline_id", str)
        workspace_id = body.require("workspace_id", int)
        steps = self._steps(body.get("definition", dict))
        record = self.backend.create_pipeline(workspace_id, name, caller(request, self.backend), steps)
        version = record.versions[-1]
        return Response.json({"pipeline_pk_id": record.id, "pipeline_variant_pk_id": version.id,
                              "pipeline_variant_version": version.version})

    def pipelines_deploy(self, request: Request) -> Response:
        """Deploy a pipeline version. The newest SDK sends no ``pipeline_id`` and no model ids:
        both follow from ``pipeline_version_pk_id``; ``model_configs``/``model_ids`` (2023.2, the
        API tutorial) are accepted and must belong to the version."""
        body = Body.of(request)
        deploy_id = body.require("deploy_id", str)
        version = self.backend.pipeline_version(body.require("pipeline_version_pk_id", int))
        pipeline_id = body.get("pipeline_id", int)
        if pipeline_id is not None and int(pipeline_id) != version.pipeline_id:
            raise InvalidRequest(f"pipeline_version_pk_id {version.id} is not a version of pipeline {pipeline_id}")
        engine_config = body.get("engine_config", dict) or {}
        deployment = self.backend.deploy(version.pipeline_id, version.id, engine_config, deploy_id=deploy_id)
        return Response.json({"id": deployment.id})

    def pipelines_undeploy(self, request: Request) -> Response:
        """Undeploy by ``deployment_id`` (the SDKs) or ``pipeline_id`` (the API tutorial): 200 ``{}``."""
        body = Body.of(request)
        deployment_id = body.get("deployment_id", int)
        pipeline_id = body.get("pipeline_id", int)
        if deployment_id is None and pipeline_id is None:
            raise InvalidRequest("either `deployment_id` or `pipeline_id` is required")
        if deployment_id is not None:
            pipeline_id = self.backend.deployment(deployment_id).pipeline_id
        self.backend.undeploy(pipeline_id)
        return Response.json({})

    def pipelines_get_by_name(self, request: Request) -> Response:
        body = Body.of(request)
        name = body.require("pipeline_name", str)
        workspace = self.backend.workspace(body.require("workspace_id", int))
        record = self.backend.pipeline_in_workspace(workspace.id, name)
        if record is None:
            raise NotFound("pipeline", name)
        return Response.json({
            "pipeline": {"id": record.id, "name": record.name, "created_at": iso(record.created_at),
                         "updated_at": iso(record.updated_at)},
            "workspace": {"id": workspace.id, "name": workspace.name, "created_at": iso(workspace.created_at),
                          "archived": workspace.archived, "created_by": workspace.created_by},
            "plateau_topic": self.backend.topic_name(record.id),
        })

    def status_get_deployment(self, request: Request) -> Response:
        """The deployment's status document; 404 until it exists and once its engines are gone."""
        name = Body.of(request).require("name", str)
        record = self.backend.live_deployment(name)
        return Response.json(self.backend.deployment_status(record.pipeline_id))

    def external_url(self, request: Request) -> Response:
        """``admin/get_pipeline_external_url``: the inference URL on the host the caller used."""
        body = Body.of(request)
        workspace = self.backend.workspace(body.require("workspace_id", int))
        name = body.require("pipeline_name", str)
        record = self.backend.pipeline_in_workspace(workspace.id, name)
        if record is None or record.deployment is None or not record.deployment.deployed:
            raise NotFound("deployment of pipeline", name)
        dep = record.deployment
        return Response.json({"url": f"{request.host}/v1/api/pipelines/infer/{dep.name}/{record.name}"})

    def internal_url(self, request: Request) -> Response:
        body = Body.of(request)
        workspace = self.backend.workspace(body.require("workspace_id", int))
        name = body.require("pipeline_name", str)
        record = self.backend.pipeline_in_workspace(workspace.id, name)
        if record is None or record.deployment is None or not record.deployment.deployed:
            raise NotFound("deployment of pipeline", name)
        return Response.json({"url": f"http://engine-lb.{record.deployment.name}:29502/pipelines/{record.name}"})

    # -- models ---------------------------------------------------------------------------------
    def _upload(self, request: Request, data: bytes, file_name: str, metadata: Body, status: int) -> Response:
        conversion = metadata.get("conversion", dict) or {}
        framework = conversion.get("framework") or "onnx"
        if not isinstance(framework, str):
            raise InvalidRequest("conversion.framework: invalid type: expected a string")
        record = self.backend.upload_model(
            metadata.require("workspace_id", int), metadata.require("name", str), data, file_name, framework,
            caller(request, self.backend), input_schema=metadata.get("input_schema"),
            output_schema=metadata.get("output_schema"), arch=conversion.get("arch"), accel=conversion.get("accel"))
        return Response.json({"insert_models": {"returning": [{"models": [{"id": record.id}]}]}}, status)

    def models_upload(self, request: Request) -> Response:
        """Multipart ``metadata`` (JSON) + ``file``: the new version's id as the SDK reads it
        (``insert_models.returning[0].models[0].id``). ``upload_and_convert`` answers 202."""
        parts = multipart(request)
        if "file" not in parts:
            raise InvalidRequest("multipart/form-data: missing part `file`")
        file_name, _, data = parts["file"]
        status = 202 if request.path.endswith("upload_and_convert") else 200
        return self._upload(request, data, file_name or "model", json_part(parts, "metadata"), status)

    def models_upload_stream(self, request: Request) -> Response:
        """2023.2 with ``MODELS_ENABLED=false``: the raw file body, metadata in the query string."""
        def arg(name: str) -> str:
            value = request.arg(name)
            if value is None:
                raise InvalidRequest(f"missing query parameter `{name}`")
            return value

        try:
            workspace_id = int(arg("workspace_id"))
        except ValueError:
            raise InvalidRequest("workspace_id: invalid digit found in string") from None
        metadata = Body({"name": arg("name"), "workspace_id": workspace_id, "conversion": {"framework": "onnx"}})
        return self._upload(request, request.body, arg("filename"), metadata, 200)

    def model_version_item(self, record: Any) -> dict[str, Any]:
        return {
            "id": record.id, "name": record.name, "model_id": record.name, "model_version": record.version,
            "models_pk_id": record.model_id, "sha": record.sha, "status": record.status, "file_name": record.file_name,
            "image_path": record.image_path, "arch": record.arch, "accel": record.accel,
            "created_at": iso(record.created_at), "updated_at": iso(record.updated_at), "visibility": "private",
            "workspace_id": record.workspace_id, "owner_id": record.owner_id or "", "error_summary": None,
            "file_info": {"file_name": record.file_name, "sha": record.sha, "size": len(record.data),
                          "version": record.version},
            "conversion": {"framework": record.framework, "requirements": [], "arch": record.arch,
                           "accel": record.accel, "python_version": "3.8", "framework_config": None},
        }

    def model_config_item(self, config: Any) -> dict[str, Any]:
        data = config.to_dict()
        for key in ("dynamic_batching_config", "continuous_batching_config", "queue_depth", "sidekick_uri", "openai"):
            data.setdefault(key, None)
        return data

    def models_get_version_by_id(self, request: Request) -> Response:
        """A version and its configuration (a default one if the version was never configured)."""
        version_id = Body.of(request).require("model_version_id", int)
        record = self.backend.model_version(version_id)
        config = self.backend.model_config_for(record.id)
        return Response.json({"model_version": {"model_version": self.model_version_item(record),
                                                "config": self.model_config_item(config)}})

    def models_insert_model_config(self, request: Request) -> Response:
        body = Body.of(request)
        version_id = body.require("model_version_id", int)
        options: dict[str, Any] = {}
        tensor_fields = body.get("tensor_fields", list)
        if tensor_fields is not None:
            if not all(isinstance(f, str) for f in tensor_fields):
                raise InvalidRequest("tensor_fields: invalid type: expected a sequence of strings")
            options["tensor_fields"] = tensor_fields
        for key in ("filter_threshold", "input_schema", "output_schema", "batch_config"):
            if body.get(key) is not None:
                options[key] = body.get(key)
        for key, stored in (("dynamic_batching_config", "dynamic_batching_config"),
                            ("continuous_batching_config", "continuous_batching_config"), ("openai_config", "openai")):
            if body.get(key) is not None:
                options[stored] = body.get(key)
        config = self.backend.configure_model(version_id, runtime=body.get("runtime", str), **options)
        return Response.json({"model_config": self.model_config_item(config)})

    def models_get_config_by_id(self, request: Request) -> Response:
        """``{"model_id"}`` (a model version's id) → its configuration, ``null`` when never configured."""
        record = self.backend.model_version(Body.of(request).require("model_id", int))
        return Response.json({"model_config": None if record.config is None else self.model_config_item(record.config)})

    # -- connections ----------------------------------------------------------------------------
    def connection_item(self, record: Any) -> dict[str, Any]:
        return {"id": record.id, "name": record.name, "type": record.type, "details": record.details,
                "created_at": iso(record.created_at), "workspace_names": self.backend.workspace_names(record)}

    def connections_create(self, request: Request) -> Response:
        body = Body.of(request)
        record = self.backend.create_connection(body.require("name", str), body.require("type", str),
                                                body.get("details", dict) or {})
        return Response.json({"id": record.id})

    def connections_get(self, request: Request) -> Response:
        return Response.json(self.connection_item(self.backend.connection_by_name(Body.of(request).require("name", str))))

    def connections_get_by_id(self, request: Request) -> Response:
        connection_id = uuid_text(Body.of(request).require("id", str), "id")
        return Response.json(self.connection_item(self.backend.connection(connection_id)))

    def connections_list(self, request: Request) -> Response:
        workspace_id = Body.of(request).get("workspace_id", int)
        records = self.backend.list_connections(workspace_id)
        return Response.json({"connections": [self.connection_item(r) for r in records]})

    def connections_add_to_workspace(self, request: Request) -> Response:
        body = Body.of(request)
        workspace_id = body.require("workspace_id", int)
        record = self.backend.connection(uuid_text(body.require("connection_id", str), "connection_id"))
        return Response.json({"id": self.backend.add_connection_to_workspace(workspace_id, record.name)})

    def connections_remove_from_workspace(self, request: Request) -> Response:
        body = Body.of(request)
        workspace_id = body.require("workspace_id", int)
        record = self.backend.connection(uuid_text(body.require("connection_id", str), "connection_id"))
        self.backend.remove_connection_from_workspace(workspace_id, record.name)
        return Response.empty(204)

    def connections_delete(self, request: Request) -> Response:
        self.backend.delete_connection(Body.of(request).require("name", str))
        return Response.empty(204)

    # -- orchestrations -------------------------------------------------------------------------
    def orchestration_upload(self, request: Request) -> Response:
        """Multipart ``file`` + ``metadata`` ``{"workspace_id", "name"}``: **202** ``{"id"}``; an
        archive the platform would never run is refused with 400 (see :mod:`emulator.wallaroo.orchestrations`)."""
        parts = multipart(request)
        if "file" not in parts:
            raise InvalidRequest("multipart/form-data: missing part `file`")
        metadata = json_part(parts, "metadata")
        workspace = self.backend.workspace(metadata.require("workspace_id", int))
        file_name, _, data = parts["file"]
        user = caller(request, self.backend)
        record = self.stores()[0].upload(data, workspace_id=workspace.id, name=metadata.get("name", str),
                                         file_name=file_name or "_", owner_id=user.id or "")
        return Response.json({"id": record.id}, 202)

    def orchestration_item(self, record: Any) -> dict[str, Any]:
        return record.to_dict()

    def orchestration_get_by_id(self, request: Request) -> Response:
        """The fields the platform returns here (no ``updated_at``, reference §5)."""
        record = self.stores()[0].get(uuid_text(Body.of(request).require("id", str), "id"))
        return Response.json({k: v for k, v in record.to_dict().items()
                              if k in ("id", "name", "created_at", "workspace_id", "sha", "file_name", "task_id",
                                       "owner_id", "status")})

    def orchestration_list(self, request: Request) -> Response:
        """2023.2: one workspace's orchestrations, a JSON array."""
        workspace = self.backend.workspace(Body.of(request).require("workspace_id", int))
        return Response.json([self.orchestration_item(r) for r in self.stores()[0].list([workspace.id])])

    def orchestration_list_all(self, request: Request) -> Response:
        """Newest: ``{"orchestrations": [{"orchestration", "tasks", "workspace"}]}``. An empty
        ``workspace_ids`` lists every workspace; ``task_run_status`` keeps tasks whose last run has
        one of the statuses; ``killed`` includes killed tasks."""
        body = Body.of(request)
        workspace_ids = body.get("workspace_ids", list) or None
        statuses = body.get("task_run_status", list) or []
        killed = bool(body.get("killed", bool))
        orchestrations, tasks = self.stores()
        items = []
        for record in orchestrations.list([int(w) for w in workspace_ids] if workspace_ids else None):
            task_items = []
            for task in tasks.list(orch_id=record.id, killed=killed):
                last = task.runs[-1].status if task.runs else None
                if statuses and last not in statuses:
                    continue
                task_items.append(task.to_dict(self.profile))
            workspace = self.backend.workspace(record.workspace_id)
            items.append({"orchestration": self.orchestration_item(record), "tasks": task_items,
                          "workspace": self._workspace_brief(workspace)})
        return Response.json({"orchestrations": items})

    def _workspace_brief(self, workspace: Any) -> dict[str, Any]:
        return {"id": workspace.id, "name": workspace.name, "created_at": iso(workspace.created_at),
                "archived": workspace.archived, "created_by": workspace.created_by}

    # -- tasks ----------------------------------------------------------------------------------
    def _task_request(self, body: Body) -> dict[str, Any]:
        timeout = body.get("timeout", int)
        workspace = self.backend.workspace(body.require("workspace_id", int))
        json_args = body.data.get("json")
        if json_args is None:
            raise InvalidRequest("Failed to deserialize the JSON body into the target type: missing field `json`")
        return {"json_args": json_args, "name": body.data.get("name"), "timeout": timeout,
                "debug": bool(body.get("debug", bool)), "workspace_id": workspace.id}

    def task_run_once(self, request: Request) -> Response:
        """**201** ``{"id"}`` (the SDKs read any 2xx with ``json.loads``)."""
        body = Body.of(request)
        orch_id = uuid_text(body.require("orch_id", str), "orch_id")
        task = self.stores()[1].run_once(orch_id, **self._task_request(body))
        return Response.json({"id": task.id}, 201)

    def task_run_scheduled(self, request: Request) -> Response:
        body = Body.of(request)
        orch_id = uuid_text(body.require("orch_id", str), "orch_id")
        schedule = body.require("schedule", str)
        task = self.stores()[1].run_scheduled(orch_id, schedule=schedule, **self._task_request(body))
        return Response.json({"id": task.id}, 201)

    def task_run_continuously(self, request: Request) -> Response:
        """A long-running service task, when the task store emulates them (else 501)."""
        body = Body.of(request)
        orch_id = uuid_text(body.require("orch_id", str), "orch_id")
        store = self.stores()[1]
        run = getattr(store, "run_continuously", None)
        if run is None:
            raise NotEmulated("run_continuously is not emulated: in-process runs cannot serve forever; "
                              "use run_once or run_scheduled")
        params = self._task_request(body)
        params.pop("timeout", None)
        task = run(orch_id, **params)
        return Response.json({"id": task.id}, 201)

    def _task_item(self, task: Any, run_limit: int | None = None) -> dict[str, Any]:
        data = task.to_dict(self.profile)
        if run_limit is not None:
            data["last_runs"] = data["last_runs"][-max(int(run_limit), 0):] if run_limit > 0 else []
        return data

    def task_get_by_id(self, request: Request) -> Response:
        body = Body.of(request)
        task = self.stores()[1].get(uuid_text(body.require("id", str), "id"))
        return Response.json(self._task_item(task, body.get("run_limit", int)))

    def task_list(self, request: Request) -> Response:
        """A JSON array of tasks: by workspace (required by 2023.2, optional in the newest),
        orchestration id or SHA; killed ones only with ``killed: true``."""
        body = Body.of(request)
        workspace_id = body.get("workspace_id", int)
        orch_id = body.get("orch_id", str)
        orch_sha = body.get("orch_sha", str)
        tasks = self.stores()[1].list(
            workspace_ids=[self.backend.workspace(workspace_id).id] if workspace_id is not None else None,
            killed=bool(body.get("killed", bool)),
            orch_id=uuid_text(orch_id, "orch_id") if orch_id is not None else None)
        if orch_sha is not None:
            tasks = [t for t in tasks if t.orch_sha == orch_sha]
        run_limit = body.get("run_limit", int)
        return Response.json([self._task_item(t, run_limit) for t in tasks])

    def task_get_tasks_by_orch_sha(self, request: Request) -> Response:
        sha = Body.of(request).require("sha", str)
        return Response.json({"ids": [t.id for t in self.stores()[1].by_orch_sha(sha)]})

    def task_list_task_runs(self, request: Request) -> Response:
        """A JSON array of runs, newest first (``status`` one of the profile's filters, ``limit``)."""
        body = Body.of(request)
        task_id = uuid_text(body.require("task_id", str), "task_id")
        runs = self.stores()[1].runs(task_id, limit=body.get("limit", int), status=body.get("status", str))
        return Response.json([run.to_dict() for run in runs])

    def task_get_run_details(self, request: Request) -> Response:
        body = Body.of(request)
        run = self.stores()[1].run(uuid_text(body.require("pod_id", str), "pod_id"))
        if run.task_id != uuid_text(body.require("task", str), "task"):
            raise NotFound("task run", body.data["pod_id"])
        return Response.json({k: v for k, v in run.to_dict().items() if k != "task"})

    def task_get_logs_for_run(self, request: Request) -> Response:
        body = Body.of(request)
        run_id = uuid_text(body.require("id", str), "id")
        return Response.json({"logs": self.stores()[1].logs(run_id, body.get("lines", int))})

    def task_kill(self, request: Request) -> Response:
        """**202** with the whole task, now ``pending_kill``."""
        task = self.stores()[1].kill(uuid_text(Body.of(request).require("id", str), "id"))
        return Response.json(self._task_item(task), 202)

    # -- plateau --------------------------------------------------------------------------------
    def plateau_topic_name(self, request: Request) -> Response:
        """By ``pipeline_pk_id``, or by ``pipeline_name`` (+ ``workspace_id``)."""
        body = Body.of(request)
        pipeline_id = body.get("pipeline_pk_id", int)
        if pipeline_id is None:
            name = body.require("pipeline_name", str)
            workspace_id = body.get("workspace_id", int)
            found = self.backend.pipelines_by_name(name, workspace_id)
            if not found:
                raise NotFound("pipeline", name)
            pipeline_id = found[0].id
        return Response.json({"topic_name": self.backend.topic_name(pipeline_id)})


#: (method, path under /v1/api, handler name)
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "config", "config"),
    ("POST", "workspaces/list", "workspaces_list"),
    ("POST", "workspaces/create", "workspaces_create"),
    ("POST", "pipelines/create", "pipelines_create"),
    ("POST", "pipelines/deploy", "pipelines_deploy"),
    ("POST", "pipelines/undeploy", "pipelines_undeploy"),
    ("POST", "pipelines/get_pipeline_by_name", "pipelines_get_by_name"),
    ("POST", "status/get_deployment", "status_get_deployment"),
    ("POST", "admin/get_pipeline_external_url", "external_url"),
    ("POST", "admin/get_pipeline_internal_url", "internal_url"),
    ("POST", "models/upload", "models_upload"),
    ("POST", "models/upload_and_convert", "models_upload"),
    ("POST", "models/upload_stream", "models_upload_stream"),
    ("POST", "models/get_version_by_id", "models_get_version_by_id"),
    ("POST", "models/get_model_version_by_id", "models_get_version_by_id"),
    ("POST", "models/insert_model_config", "models_insert_model_config"),
    ("POST", "models/get_config_by_id", "models_get_config_by_id"),
    ("POST", "connections/create", "connections_create"),
    ("POST", "connections/get", "connections_get"),
    ("POST", "connections/get_by_id", "connections_get_by_id"),
    ("POST", "connections/list", "connections_list"),
    ("POST", "connections/add_to_workspace", "connections_add_to_workspace"),
    ("POST", "connections/remove_from_workspace", "connections_remove_from_workspace"),
    ("POST", "connections/delete", "connections_delete"),
    ("POST", "orchestration/upload", "orchestration_upload"),
    ("POST", "orchestration/get_by_id", "orchestration_get_by_id"),
    ("POST", "orchestration/list", "orchestration_list"),
    ("POST", "orchestration/list_all", "orchestration_list_all"),
    ("POST", "task/run_once", "task_run_once"),
    ("POST", "task/run_scheduled", "task_run_scheduled"),
    ("POST", "task/run_continuously", "task_run_continuously"),
    ("POST", "task/get_by_id", "task_get_by_id"),
    ("POST", "task/list", "task_list"),
    ("POST", "task/get_tasks_by_orch_sha", "task_get_tasks_by_orch_sha"),
    ("POST", "task/list_task_runs", "task_list_task_runs"),
    ("POST", "task/get_run_details", "task_get_run_details"),
    ("POST", "task/get_logs_for_run", "task_get_logs_for_run"),
    ("POST", "task/kill", "task_kill"),
    ("POST", "plateau/get_topic_name", "plateau_topic_name"),
    ("POST", "plateau/get_pipeline_topic_name", "plateau_topic_name"),
)


def register(router: Any, emu: Any) -> MlopsApi:
    """Register every MLOps route of :data:`ROUTES` under the ``wallaroo`` service."""
    api = MlopsApi(emu)
    for method, path, name in ROUTES:
        handler: Callable[[Request], Response] = getattr(api, name)
        router.add_route(SERVICE, method, "/v1/api/" + path.replace("/", r"/"), guarded(handler))
    return api
