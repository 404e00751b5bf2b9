"""The emulated Wallaroo platform: plain Python state and behaviour, no SDK classes, no HTTP.

One :class:`WallarooBackend` per :class:`emulator.Emulator` (``emu.wallaroo``). Everything is
keyed by the platform's own identifiers, drawn from ``emu.ids``; every timestamp comes from
``emu.clock``. The ``wallaroo`` facade (``emulator.wallaroo.sdk``) and, later, the REST adapter
call this API; tests may call it directly.

Records (dataclasses in :mod:`emulator.wallaroo.records`, importable from here too; read them
freely, change them only through the methods):
:class:`User`, :class:`WorkspaceRecord`, :class:`ModelRecord`, :class:`ModelVersionRecord`,
:class:`ModelConfigRecord`, :class:`PipelineRecord`, :class:`PipelineVersionRecord`,
:class:`DeploymentRecord`, :class:`ConnectionRecord`, :class:`LogBatch`.

API (all raise :mod:`emulator.wallaroo.errors` exceptions):

* users: ``user(email=None, user_id=None) -> User`` (created on first use).
* workspaces: ``create_workspace(name, owner) -> WorkspaceRecord`` (AlreadyExists),
  ``workspace(id)``, ``workspace_by_name(name) -> WorkspaceRecord | None``,
  ``list_workspaces(user=None)``, ``default_workspace(user)`` (``<email>_ws``, created on demand),
  ``workspaces`` (dict id → record).
* models: ``upload_model(workspace_id, name, data, file_name, framework, owner, ...) ->
  ModelVersionRecord`` (sha256 of the bytes; ONNX validated by loading it),
  ``model_version(id)``, ``model_version_by_uuid(version)``, ``model_versions_by_name(name, workspace_id=None)``,
  ``configure_model(version_id, **options) -> ModelConfigRecord``,
  ``register_model_callable(model, func, input_names=None)`` (tests: run a non-ONNX model).
* pipelines: ``create_pipeline(workspace_id, name, owner) -> PipelineRecord`` (an existing name
  in the workspace gets one more, empty version), ``pipeline(id)``,
  ``pipelines_by_name(name, workspace_id=None)`` (newest first), ``pipeline_in_workspace(ws, name)``,
  ``list_pipelines(workspace_id=None)``, ``create_pipeline_version(pipeline_id, steps) -> PipelineVersionRecord``
  (steps: list of lists of model-version ids, one inner list per ModelInference step).
* deployments: ``deploy(pipeline_id, version_id=None, engine_config=None) -> DeploymentRecord``
  (status ``Starting``, ``Running`` after :data:`DEPLOY_SECONDS` of virtual time),
  ``undeploy(pipeline_id)`` (gone after :data:`UNDEPLOY_SECONDS`), ``deployment_for(pipeline_id)``,
  ``deployment_by_name("<pipeline>-<id>")``,
  ``deployment_status(pipeline_id) -> dict`` (the status document of reference §3; NotFound
  when there is no deployment), ``list_deployments()``.
* inference: ``infer(pipeline_id, data, anomaly_column) -> DataFrame | pa.Table``
  (``data`` a DataFrame or a pa.Table; logs on success only), ``logs(pipeline_id, start=None,
  end=None, limit=None, valid=None) -> list[LogBatch]`` slices.
* connections: ``create_connection(name, type, details) -> ConnectionRecord`` (AlreadyExists),
  ``connection_by_name(name)`` / ``connection(id)`` (NotFound), ``list_connections(workspace_id=None)``,
  ``add_connection_to_workspace(workspace_id, name) -> link id``, ``remove_connection_from_workspace``,
  ``delete_connection(name)``; ``ConnectionRecord.workspace_ids`` lists the linked workspaces.
* placeholders filled by the orchestration part: ``orchestrations`` and ``tasks`` (``None`` here).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from emulator.wallaroo.errors import (
    AlreadyExists,
    InferenceFailed,
    InvalidRequest,
    ModelUploadFailed,
    NotEmulated,
    NotFound,
)
from emulator.wallaroo.records import (  # re-exported: the records live there
    ConnectionRecord,
    DeploymentRecord,
    LogBatch,
    ModelConfigRecord,
    ModelRecord,
    ModelVersionRecord,
    PipelineRecord,
    PipelineVersionRecord,
    User,
    WorkspaceRecord,
)

#: Virtual seconds a deployment spends in ``Starting`` before it is ``Running`` *(guess: the
#: notebooks show deploys of a small ONNX model taking a few seconds to a minute)*.
DEPLOY_SECONDS = 5.0
#: Virtual seconds before an undeployed pipeline's deployment is gone (status answers 404).
UNDEPLOY_SECONDS = 2.0
#: The SDKs' inference retry policy on 503 (both versions): 10 retries, backoff factor 0.1 s.
CLIENT_RETRIES = 10
CLIENT_BACKOFF = 0.1

_DNS_NAME = re.compile(r"^[A-Za-z0-9-]+$")


def dns_compliant(name: str) -> bool:
    """ASCII alphanumerics and dash only (the SDK's ``require_dns_compliance``)."""
    return bool(name) and bool(_DNS_NAME.match(name))


__all__ = [
    "ConnectionRecord", "DeploymentRecord", "LogBatch", "ModelConfigRecord", "ModelRecord", "ModelVersionRecord",
    "PipelineRecord", "PipelineVersionRecord", "User", "WallarooBackend", "WorkspaceRecord", "dns_compliant",
]

class WallarooBackend:
    """State and behaviour of one emulated platform (see the module docstring for the API)."""

    def __init__(self, clock: Any, ids: Any, profile: str = "2023.2") -> None:
        self.clock = clock
        self.ids = ids
        self.profile = profile
        self.users: dict[str, User] = {}
        self.workspaces: dict[int, WorkspaceRecord] = {}
        self.models: dict[int, ModelRecord] = {}
        self.model_versions_by_id: dict[int, ModelVersionRecord] = {}
        self.pipelines: dict[int, PipelineRecord] = {}
        self.deployments: dict[int, DeploymentRecord] = {}
        self.connections: dict[str, ConnectionRecord] = {}  # by id
        self._runtimes: dict[int, Any] = {}
        self._callables: dict[str, tuple[Callable[..., Any], list[str] | None]] = {}
        #: Filled by the orchestration part of the emulator.
        self.orchestrations: Any = None
        self.tasks: Any = None

    # -- users -------------------------------------------------------------------------------
    def user(self, email: str, user_id: str | None = None) -> User:
        found = self.users.get(email)
        if found is None:
            found = self.users[email] = User(user_id, email)
        return found

    # -- workspaces --------------------------------------------------------------------------
    def create_workspace(self, name: str, owner: User | None = None) -> WorkspaceRecord:
        """A new workspace. The platform takes any non-blank name: the DNS rule (letters, digits,
        dash) is the SDK's own check in ``Client.create_workspace``, which ``get_workspace(...,
        create_if_not_exist=True)`` and GraphQL inserts do not make."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequest(f"workspace name {name!r} is empty")
        if self.workspace_by_name(name) is not None:
            raise AlreadyExists("workspace", name)
        record = WorkspaceRecord(
            id=self.ids.next_int("workspace"), name=name, created_at=self.clock.now(),
            created_by=owner.id if owner else None, users=[owner.email] if owner else [],
        )
        self.workspaces[record.id] = record
        return record

    def workspace(self, workspace_id: int) -> WorkspaceRecord:
        try:
            return self.workspaces[int(workspace_id)]
        except (KeyError, TypeError, ValueError):
            raise NotFound("workspace", workspace_id) from None

    def workspace_by_name(self, name: str) -> WorkspaceRecord | None:
        for record in self.workspaces.values():
            if record.name == name:
                return record
        return None

    def list_workspaces(self, user: User | None = None) -> list[WorkspaceRecord]:
        return [w for w in self.workspaces.values() if not w.archived]

    def default_workspace(self, user: User) -> WorkspaceRecord:
        name = f"{user.email}_ws"
        found = self.workspace_by_name(name)
        if found is not None:
            return found
        record = WorkspaceRecord(
            id=self.ids.next_int("workspace"), name=name, created_at=self.clock.now(),
            created_by=user.id, users=[user.email],
        )
        self.workspaces[record.id] = record
        return record

    # -- models ------------------------------------------------------------------------------
    def upload_model(
        self,
        workspace_id: int,
        name: str,
        data: bytes,
        file_name: str,
        framework: str,
        owner: User | None = None,
        *,
        input_schema: Any = None,
        output_schema: Any = None,
        arch: str | None = None,
        accel: str | None = None,
    ) -> ModelVersionRecord:
        workspace = self.workspace(workspace_id)
        if not dns_compliant(name):
            raise InvalidRequest(f"model name {name!r} is not DNS compliant")
        runtime = None
        if framework == "onnx":
            from emulator.wallaroo.inference import OnnxModelRuntime

            runtime = OnnxModelRuntime(data)  # raises ModelUploadFailed for a non-model file
        elif not data:
            raise ModelUploadFailed("the model file is empty")
        model = next((m for m in self.models.values() if m.name == name and m.workspace_id == workspace.id), None)
        now = self.clock.now()
        if model is None:
            model = ModelRecord(self.ids.next_int("model"), name, workspace.id, owner.id if owner else None, now)
            self.models[model.id] = model
            workspace.model_ids.append(model.id)
        version = ModelVersionRecord(
            id=self.ids.next_int("model_version"), model_id=model.id, name=name,
            version=self.ids.uuid4("model_version"), sha=hashlib.sha256(data).hexdigest(),
            file_name=file_name, framework=framework, workspace_id=workspace.id,
            owner_id=owner.id if owner else None, created_at=now, updated_at=now, data=data,
            arch=arch or "x86", accel=accel or "none", input_schema=input_schema, output_schema=output_schema,
        )
        model.versions.append(version)
        self.model_versions_by_id[version.id] = version
        if runtime is not None:
            self._runtimes[version.id] = runtime
        return version

    def model_version(self, version_id: int) -> ModelVersionRecord:
        try:
            return self.model_versions_by_id[int(version_id)]
        except (KeyError, TypeError, ValueError):
            raise NotFound("model version", version_id) from None

    def model_version_by_uuid(self, version: str) -> ModelVersionRecord:
        """The model version whose ``version`` uuid this is (pipeline definitions name models by it)."""
        for record in self.model_versions_by_id.values():
            if record.version == version:
                return record
        raise NotFound("model version", version)

    def model_versions_by_name(self, name: str, workspace_id: int | None = None) -> list[ModelVersionRecord]:
        return [v for v in self.model_versions_by_id.values()
                if v.name == name and (workspace_id is None or v.workspace_id == workspace_id)]

    def configure_model(self, version_id: int, *, runtime: str | None = None, **options: Any) -> ModelConfigRecord:
        version = self.model_version(version_id)
        known = {"tensor_fields", "filter_threshold", "input_schema", "output_schema", "batch_config"}
        config = ModelConfigRecord(
            id=self.ids.next_int("model_config"), model_version_id=version.id,
            runtime=runtime or default_runtime(version.framework),
            **{k: v for k, v in options.items() if k in known},
            extra={k: v for k, v in options.items() if k not in known},
        )
        if config.tensor_fields is not None:
            config.tensor_fields = [str(f) for f in config.tensor_fields]
        version.config = config
        version.updated_at = self.clock.now()
        return config

    def model_config_for(self, version_id: int) -> ModelConfigRecord:
        """The version's configuration; an unconfigured version gets its default one (the
        platform configures every upload with the runtime of its framework)."""
        version = self.model_version(version_id)
        if version.config is None:
            version.config = ModelConfigRecord(self.ids.next_int("model_config"), version.id,
                                               default_runtime(version.framework))
        return version.config

    def register_model_callable(
        self, model: str, func: Callable[[dict[str, Any]], Any], input_names: Sequence[str] | None = None
    ) -> None:
        """Run ``func`` instead of the model (name, or version uuid) at inference.

        This is the documented extension for non-ONNX frameworks: ``func`` receives
        ``{column or input name: numpy array}`` and returns ``{output name: array-like}`` or one
        array-like (named ``output``). It overrides ONNX models too.
        """
        self._callables[model] = (func, list(input_names) if input_names else None)
        for version in self.model_versions_by_id.values():
            if model in (version.name, version.version):
                self._runtimes.pop(version.id, None)

    def runtime_for(self, version: ModelVersionRecord) -> Any:
        """The cached runtime of a model version (onnxruntime session, or a registered callable)."""
        runtime = self._runtimes.get(version.id)
        if runtime is not None:
            return runtime
        from emulator.wallaroo.inference import CallableModelRuntime, OnnxModelRuntime

        registered = self._callables.get(version.version) or self._callables.get(version.name)
        if registered is not None:
            runtime = CallableModelRuntime(*registered)
        elif version.framework == "onnx":
            runtime = OnnxModelRuntime(version.data)
        else:
            raise NotEmulated(
                f"model '{version.name}' (framework '{version.framework}') cannot run in the emulator: only ONNX "
                f"models are executed. Register a Python callable for it with "
                f"emu.wallaroo.register_model_callable({version.name!r}, func)"
            )
        self._runtimes[version.id] = runtime
        return runtime

    # -- pipelines ---------------------------------------------------------------------------
    def create_pipeline(self, workspace_id: int, name: str, owner: User | None = None,
                        steps: Sequence[Sequence[int]] = ()) -> PipelineRecord:
        """Create a pipeline with one version of ``steps`` (none by default); an existing name in
        the workspace gets one more version instead (``pipelines/create`` on the platform)."""
        workspace = self.workspace(workspace_id)
        if not dns_compliant(name):
            raise InvalidRequest(f"pipeline name {name!r} is not DNS compliant")
        for step in steps:
            for version_id in step:
                self.model_version(version_id)
        existing = self.pipeline_in_workspace(workspace.id, name)
        if existing is not None:
            self.create_pipeline_version(existing.id, steps)
            return existing
        now = self.clock.now()
        record = PipelineRecord(self.ids.next_int("pipeline"), name, workspace.id, owner.id if owner else None, now, now)
        self.pipelines[record.id] = record
        workspace.pipeline_ids.append(record.id)
        self.create_pipeline_version(record.id, steps)
        return record

    def pipeline_version(self, version_id: int) -> PipelineVersionRecord:
        """A pipeline version by its primary key (``pipeline_version_pk_id``)."""
        try:
            wanted = int(version_id)
        except (TypeError, ValueError):
            raise NotFound("pipeline version", version_id) from None
        for pipeline in self.pipelines.values():
            for version in pipeline.versions:
                if version.id == wanted:
                    return version
        raise NotFound("pipeline version", version_id)

    def pipeline(self, pipeline_id: int) -> PipelineRecord:
        try:
            return self.pipelines[int(pipeline_id)]
        except (KeyError, TypeError, ValueError):
            raise NotFound("pipeline", pipeline_id) from None

    def pipeline_in_workspace(self, workspace_id: int, name: str) -> PipelineRecord | None:
        for record in self.pipelines.values():
            if record.workspace_id == workspace_id and record.name == name:
                return record
        return None

    def pipelines_by_name(self, name: str, workspace_id: int | None = None) -> list[PipelineRecord]:
        found = [p for p in self.pipelines.values()
                 if p.name == name and (workspace_id is None or p.workspace_id == workspace_id)]
        return sorted(found, key=lambda p: (p.created_at, p.id), reverse=True)

    def list_pipelines(self, workspace_id: int | None = None) -> list[PipelineRecord]:
        found = [p for p in self.pipelines.values() if workspace_id is None or p.workspace_id == workspace_id]
        return sorted(found, key=lambda p: (p.created_at, p.id), reverse=True)

    def create_pipeline_version(self, pipeline_id: int, steps: Sequence[Sequence[int]]) -> PipelineVersionRecord:
        pipeline = self.pipeline(pipeline_id)
        for step in steps:
            for version_id in step:
                self.model_version(version_id)
        now = self.clock.now()
        version = PipelineVersionRecord(
            self.ids.next_int("pipeline_version"), self.ids.uuid4("pipeline_version"), pipeline.id,
            [list(step) for step in steps], now,
        )
        pipeline.versions.append(version)
        pipeline.updated_at = now
        return version

    # -- deployments -------------------------------------------------------------------------
    def deploy(self, pipeline_id: int, version_id: int | None = None,
               engine_config: dict[str, Any] | None = None, deploy_id: str | None = None) -> DeploymentRecord:
        """Deploy a version (the latest by default) under ``deploy_id`` (the pipeline's name by
        default; status and inference URLs name the deployment ``<deploy_id>-<id>``)."""
        pipeline = self.pipeline(pipeline_id)
        if deploy_id is not None and not dns_compliant(deploy_id):
            raise InvalidRequest(f"deploy_id {deploy_id!r} is not DNS compliant")
        version = pipeline.versions[-1] if version_id is None else next(
            (v for v in pipeline.versions if v.id == version_id), None)
        if version is None:
            raise NotFound("pipeline version", version_id)
        if not version.steps:
            raise InvalidRequest(f"pipeline '{pipeline.name}' has no steps to deploy; add a model step first")
        deployment = pipeline.deployment
        if deployment is None or not deployment.deployed:
            rng = self.ids.random("engine")
            deployment = DeploymentRecord(
                id=self.ids.next_int("deployment"), deploy_id=deploy_id or pipeline.name, pipeline_id=pipeline.id,
                version=version, status="Starting", deployed=True, created_at=self.clock.now(),
                engine_config=dict(engine_config or {}),
                engine_name=f"engine-{self.ids.hex(5, 'engine')[:10]}-{self.ids.hex(3, 'engine')[:5]}",
                engine_ip=f"10.244.{rng.randrange(1, 250)}.{rng.randrange(2, 250)}",
                lb_name=f"engine-lb-{self.ids.hex(5, 'engine')[:10]}-{self.ids.hex(3, 'engine')[:5]}",
                lb_ip=f"10.244.{rng.randrange(1, 250)}.{rng.randrange(2, 250)}",
            )
            self.deployments[deployment.id] = deployment
            pipeline.deployment = deployment
        else:
            deployment.version = version
            deployment.status = "Starting"
            deployment.engine_config = dict(engine_config or deployment.engine_config)
        pipeline.ever_deployed = True
        pipeline.updated_at = self.clock.now()
        for step in version.steps:  # warm the sessions now, as the engine loads models at deploy
            for version_id_ in step:
                try:
                    self.runtime_for(self.model_version(version_id_))
                except NotEmulated:
                    pass

        def running(dep: DeploymentRecord = deployment) -> None:
            if dep.deployed and dep.status == "Starting":
                dep.status = "Running"

        self.clock.call_later(DEPLOY_SECONDS, running, name=f"wallaroo deploy {deployment.name}")
        return deployment

    def undeploy(self, pipeline_id: int) -> DeploymentRecord | None:
        pipeline = self.pipeline(pipeline_id)
        deployment = pipeline.deployment
        if deployment is None or not deployment.deployed:
            return None
        deployment.deployed = False
        deployment.status = "Undeploying"

        def gone(dep: DeploymentRecord = deployment, pipe: PipelineRecord = pipeline) -> None:
            if not dep.deployed and pipe.deployment is dep:
                pipe.deployment = None

        self.clock.call_later(UNDEPLOY_SECONDS, gone, name=f"wallaroo undeploy {deployment.name}")
        return deployment

    def deployment_for(self, pipeline_id: int) -> DeploymentRecord | None:
        return self.pipeline(pipeline_id).deployment

    def deployment_by_name(self, name: str) -> DeploymentRecord:
        """The deployment called ``<pipeline>-<id>`` (status and inference URLs use this name)."""
        for record in self.deployments.values():
            if record.name == name:
                return record
        raise NotFound("deployment", name)

    def deployment(self, deployment_id: int) -> DeploymentRecord:
        try:
            return self.deployments[int(deployment_id)]
        except (KeyError, TypeError, ValueError):
            raise NotFound("deployment", deployment_id) from None

    def live_deployment(self, name: str) -> DeploymentRecord:
        """The deployment ``<deploy_id>-<id>`` while its engines exist (Starting, Running, or
        Undeploying until they are gone); NotFound otherwise, as ``status/get_deployment`` answers."""
        record = self.deployment_by_name(name)
        if self.pipeline(record.pipeline_id).deployment is not record:
            raise NotFound("deployment", name)
        return record

    def list_deployments(self) -> list[DeploymentRecord]:
        return [d for d in self.deployments.values() if d.deployed]

    def deployment_status(self, pipeline_id: int) -> dict[str, Any]:
        """The status document of ``POST /v1/api/status/get_deployment`` (NotFound when none).

        ``status`` is ``Starting`` then ``Running`` (the platform's ``Error``/``Running``/``Starting``).
        Each engine, load balancer and helm release is described twice, in the flat shape the
        notebooks show (``ip, name, status, reason, details``) and under ``info`` (``name,
        status`` = the pod phase, ``details, labels, health``) as the platform's OpenAPI schema
        has it. During the short teardown after ``undeploy`` the engines still answer as running
        until they are gone (then the deployment is unknown: 404).
        """
        pipeline = self.pipeline(pipeline_id)
        dep = pipeline.deployment
        if dep is None:
            raise NotFound("deployment", pipeline.name)
        state = "Starting" if dep.status == "Starting" else "Running"
        models = []
        for step in dep.version.steps:
            for version_id in step:
                mv = self.model_version(version_id)
                models.append({"model_version_id": mv.id, "name": mv.name, "sha": mv.sha, "status": state,
                               "version": mv.version})
        phase = "Running" if state == "Running" else "Pending"

        def pod(name: str, ip: str, component: str) -> dict[str, Any]:
            return {"ip": ip, "name": name, "status": phase, "reason": None, "details": [],
                    "info": {"name": name, "status": phase, "details": [], "labels": {"app": component},
                             "health": state}}

        engine = pod(dep.engine_name, dep.engine_ip, "engine")
        engine["pipeline_statuses"] = {"pipelines": [{"id": pipeline.name, "status": state,
                                                      "version": dep.version.version}]}
        engine["model_statuses"] = {"models": models}
        return {
            "status": state,
            "details": [],
            "engines": [engine],
            "engine_lbs": [pod(dep.lb_name, dep.lb_ip, "engine-lb")],
            "sidekicks": [],
            "helm": [],
        }

    # -- inference ---------------------------------------------------------------------------
    def steps_for(self, version: PipelineVersionRecord) -> list[Any]:
        from emulator.wallaroo.inference import Step

        steps = []
        for step in version.steps:
            mv = self.model_version(step[0])
            config = mv.config
            steps.append(Step(mv.name, self.runtime_for(mv), config.tensor_fields if config else None))
        return steps

    @property
    def anomaly_column(self) -> str:
        """``check_failures`` in the 2023.2 profile, ``anomaly.count`` in the newest."""
        return "check_failures" if self.profile == "2023.2" else "anomaly.count"

    def inference_metadata(self, deployment: DeploymentRecord) -> dict[str, Any]:
        """The engine's per-call ``metadata`` fields (deterministic: ``elapsed`` is not measured)."""
        last = self.model_version(deployment.version.steps[-1][0])
        return {
            "last_model": json.dumps({"model_name": last.name, "model_sha": last.sha}, separators=(",", ":")),
            "pipeline_version": deployment.version.version,
            "elapsed": [0, 0],
            "dropped": [],
            "partition": deployment.engine_name,
        }

    def run_inference(self, pipeline_id: int, data: Any, anomaly_column: str | None = None) -> Any:
        """Run a deployed pipeline on a DataFrame or a pa.Table and log it: the engine's
        :class:`emulator.wallaroo.inference.EngineResult` (render it with ``frame``/``table``/``records``).

        ``data`` may also be :class:`emulator.wallaroo.inference.RecordColumns` (a pandas-records
        body read without pandas). Not deployed → ``InferenceFailed`` 404 (``NotDeployed``); deployed but not ``Running``
        yet → 503 (``ServiceUnavailable``, which the SDKs retry); bad input → 400 (``InvalidInput``).
        """
        from emulator.wallaroo import inference

        pipeline = self.pipeline(pipeline_id)
        dep = pipeline.deployment
        if dep is None or not dep.deployed:
            raise InferenceFailed("NotDeployed", f"pipeline '{pipeline.name}' is not deployed", status=404)
        if dep.status != "Running":
            raise InferenceFailed("ServiceUnavailable", f"pipeline '{pipeline.name}' is {dep.status}, not Running",
                                  status=503)
        records = isinstance(data, inference.RecordColumns)
        arrow = not records and (not hasattr(data, "columns") or not hasattr(data, "iloc"))
        n = data.num_rows if arrow or records else len(data)
        names = list(data) if records else data.column_names if arrow else list(data.columns)
        if n == 0 or not names:
            raise inference.invalid("the inference request holds no rows" if names else
                                    "the inference request holds no columns")
        if records:
            columns = inference.columns_from_records(data)
        else:
            columns = inference.columns_from_table(data) if arrow else inference.columns_from_frame(data)
        outputs = inference.run_steps(self.steps_for(dep.version), columns)
        time_ms = self.clock.epoch_ms()
        if arrow:
            inputs = {}
            for name, col in columns.items():
                inputs[name] = next(iter(col._cache.values())) if col._cache else col.values
        else:
            inputs = {name: col.echo() for name, col in columns.items()}
        pipeline.log.append(LogBatch(time_ms, n, dep.version.version, inputs, outputs))
        return inference.EngineResult(time_ms, n, inputs, outputs, anomaly_column or self.anomaly_column,
                                      self.inference_metadata(dep))

    def infer(self, pipeline_id: int, data: Any, anomaly_column: str | None = None, *,
              dataset: Sequence[str] | None = None, dataset_exclude: Sequence[str] | None = None,
              dataset_separator: str | None = None) -> Any:
        """Infer and render as the SDK returns it: DataFrame → DataFrame, pa.Table → pa.Table.

        ``dataset``/``dataset_exclude``/``dataset_separator`` are the SDK's ``infer`` arguments,
        turned into the engine's parameters as the SDK does
        (:func:`emulator.wallaroo.inference.sdk_dataset_params`: ``metadata`` is excluded unless asked).
        """
        from emulator.wallaroo import inference

        result = self.run_inference(pipeline_id, data, anomaly_column)
        wanted, excluded, separator = inference.sdk_dataset_params(dataset, dataset_exclude, dataset_separator)
        if hasattr(data, "columns") and hasattr(data, "iloc"):
            return result.frame(wanted, excluded, separator)
        return result.table(wanted, excluded, separator)

    def infer_records(self, pipeline_id: int, tensor: Any) -> list[dict[str, Any]]:
        """The engine's answer to a JSON (``format=wallaroo``) request: nested records, metadata included."""
        from emulator.wallaroo import inference

        return self.run_inference(pipeline_id, inference.frame_from_json(tensor)).records()

    def retrying_unavailable(self, call: Callable[[], Any], retries: int = CLIENT_RETRIES,
                             backoff: float = CLIENT_BACKOFF) -> Any:
        """Call ``call`` again while the engine answers 503, as both SDKs' inference sessions do
        (``Retry(total=10, backoff_factor=0.1, status_forcelist=[503])``): the waits pass on the
        virtual clock (``backoff * 2**attempt`` seconds), so a deployment still starting becomes
        ``Running`` meanwhile. Other errors, and the eleventh 503, propagate."""
        for attempt in range(retries + 1):
            try:
                return call()
            except InferenceFailed as exc:
                if exc.status != 503 or attempt >= retries:
                    raise
                self.clock.advance(backoff * (2 ** attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def logs(self, pipeline_id: int, start: datetime | None = None, end: datetime | None = None,
             limit: int | None = None, valid: bool | None = None) -> list[LogBatch]:
        """Logged batches in time order, within ``[start, end]`` and the newest ``limit`` rows.

        ``valid=False`` asks for the failures topic, which stays empty: failed calls are not logged.
        """
        pipeline = self.pipeline(pipeline_id)
        if valid is False:
            return []
        lo = _epoch_ms(start) if start is not None else None
        hi = _epoch_ms(end) if end is not None else None
        batches = [b for b in pipeline.log if (lo is None or b.time_ms >= lo) and (hi is None or b.time_ms <= hi)]
        if limit is None:
            return batches
        kept: list[LogBatch] = []
        remaining = int(limit)
        for batch in reversed(batches):
            if remaining <= 0:
                break
            if batch.n <= remaining:
                kept.append(batch)
                remaining -= batch.n
            else:
                kept.append(_tail(batch, remaining))
                remaining = 0
        return kept[::-1]

    def log_records(self, pipeline_id: int, start: datetime | None = None, end: datetime | None = None,
                    limit: int | None = None, valid: bool | None = None) -> tuple[Any, str]:
        """The logs as one result (``None`` when empty) and the plateau status of the answer.

        One schema per answer, as the platform stops at a schema change (status ``SchemaChange``:
        the newest batches sharing the last batch's inputs and outputs); ``RecordLimited`` when
        ``limit`` left rows out, else ``All``.
        """
        from emulator.wallaroo import inference

        batches = self.logs(pipeline_id, start, end, limit, valid)
        status = "All"
        if limit is not None and batches:
            available = sum(b.n for b in self.logs(pipeline_id, start, end, None, valid))
            if available > sum(b.n for b in batches):
                status = "RecordLimited"
        if batches:
            names = (set(batches[-1].inputs), set(batches[-1].outputs))
            kept = []
            for batch in reversed(batches):
                if (set(batch.inputs), set(batch.outputs)) != names:
                    status = "SchemaChange"
                    break
                kept.append(batch)
            batches = kept[::-1]
        if not batches:
            return None, status
        import numpy as np

        times = np.concatenate([np.full(b.n, b.time_ms, dtype=np.int64) for b in batches])
        inputs = {name: np.concatenate([_as_rows(b.inputs[name]) for b in batches]) for name in batches[-1].inputs}
        outputs = {name: _concat_outputs([b.outputs[name] for b in batches]) for name in batches[-1].outputs}
        return inference.EngineResult(times, len(times), inputs, outputs, self.anomaly_column), status

    def topic_name(self, pipeline_id: int) -> str:
        """The plateau topic of a pipeline's inference logs (``-failures`` appended for invalid ones)."""
        record = self.pipeline(pipeline_id)
        return f"workspace-{record.workspace_id}-pipeline-{record.name}-inference"

    def pipeline_by_topic(self, topic: str) -> tuple[PipelineRecord, bool]:
        """The pipeline whose topic this is, and whether it is the ``-failures`` topic (NotFound)."""
        failures = topic.endswith("-failures")
        base = topic[: -len("-failures")] if failures else topic
        for record in self.pipelines.values():
            if self.topic_name(record.id) == base:
                return record, failures
        raise NotFound("topic", topic)

    # -- connections -------------------------------------------------------------------------
    def create_connection(self, name: str, type: str, details: dict[str, Any]) -> ConnectionRecord:
        if self._connection_named(name) is not None:
            raise AlreadyExists("connection", name)
        record = ConnectionRecord(self.ids.uuid4("connection"), name, str(type), dict(details or {}), self.clock.now())
        self.connections[record.id] = record
        return record

    def _connection_named(self, name: str) -> ConnectionRecord | None:
        for record in self.connections.values():
            if record.name == name:
                return record
        return None

    def connection_by_name(self, name: str) -> ConnectionRecord:
        found = self._connection_named(name)
        if found is None:
            raise NotFound("connection", name)
        return found

    def connection(self, connection_id: str) -> ConnectionRecord:
        try:
            return self.connections[str(connection_id)]
        except KeyError:
            raise NotFound("connection", connection_id) from None

    def list_connections(self, workspace_id: int | None = None) -> list[ConnectionRecord]:
        if workspace_id is None:
            return list(self.connections.values())
        self.workspace(workspace_id)
        return [c for c in self.connections.values() if int(workspace_id) in c.workspace_ids]

    def add_connection_to_workspace(self, workspace_id: int, name: str) -> str:
        workspace = self.workspace(workspace_id)
        record = self.connection_by_name(name)
        if workspace.id not in record.links:
            record.links[workspace.id] = self.ids.uuid4("connection_link")
            record.workspace_ids.append(workspace.id)
        return record.links[workspace.id]

    def remove_connection_from_workspace(self, workspace_id: int, name: str) -> None:
        workspace = self.workspace(workspace_id)
        record = self.connection_by_name(name)
        if workspace.id in record.links:
            del record.links[workspace.id]
            record.workspace_ids.remove(workspace.id)

    def delete_connection(self, name: str) -> None:
        record = self.connection_by_name(name)
        del self.connections[record.id]

    def workspace_names(self, record: ConnectionRecord) -> list[str]:
        return [self.workspaces[w].name for w in record.workspace_ids if w in self.workspaces]


def default_runtime(framework: str) -> str:
    """The engine runtime the platform picks for a framework (the SDK's ``Runtime`` values)."""
    return {"onnx": "onnx", "tensorflow": "tensorflow", "mlflow": "mlflow"}.get(framework, "flight")


def _epoch_ms(instant: datetime) -> int:
    from emulator.clock import to_utc

    aware = to_utc(instant)
    delta: timedelta = aware - datetime(1970, 1, 1, tzinfo=aware.tzinfo)
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _as_rows(value: Any) -> Any:
    """A logged column as one Python object per row (object array)."""
    import numpy as np

    from emulator.wallaroo import inference

    if isinstance(value, np.ndarray):
        if value.dtype == object or value.ndim == 1:
            return value
        return inference._rows_as_lists(value)
    return inference._object_array(value.to_pylist())  # a pyarrow Array


def _concat_outputs(parts: list[Any]) -> Any:
    """Logged outputs of several calls as one batch-major array (rows of lists if shapes differ)."""
    import numpy as np

    if len({p.shape[1:] for p in parts}) == 1 and len({p.dtype for p in parts}) == 1:
        return np.concatenate(parts)
    return np.concatenate([_as_rows(p) for p in parts])


def _tail(batch: LogBatch, count: int) -> LogBatch:
    def cut(value: Any) -> Any:
        return value[len(value) - count:] if hasattr(value, "__len__") else value

    return LogBatch(batch.time_ms, count, batch.pipeline_version,
                    {k: cut(v) for k, v in batch.inputs.items()}, {k: cut(v) for k, v in batch.outputs.items()})
