"""``wallaroo.client``: ``Client``, the SDK's entry point, served by the active emulator.

Construction follows the real SDK's argument and environment rules per profile (2023.2:
``WALLAROO_URL`` overrides ``api_endpoint``; newest: arguments first, then ``WALLAROO_URL`` /
``WALLAROO_SDK_AUTH_TYPE``, ``ValueError`` when either is missing), never prompts and never
opens a connection. Without an endpoint from the user or the environment, ``api_endpoint`` is
:data:`emulator.emulator.WALLAROO_EMULATOR_URL`.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

from emulator.wallaroo import profiles
from emulator.wallaroo.errors import AlreadyExists, InvalidRequest, ModelUploadFailed, NotFound
from emulator.wallaroo.profiles import UNSET, newest_only, reject_newer_args
from emulator.wallaroo.sdk import auth as auth_module
from emulator.wallaroo.sdk.connection import Connection, ConnectionList
from emulator.wallaroo.sdk.deployment import Deployment
from emulator.wallaroo.sdk.framework import Framework, check_available
from emulator.wallaroo.sdk.model import facade_for, models_of
from emulator.wallaroo.sdk.model_version import ModelVersion
from emulator.wallaroo.sdk.object import (
    EntityNotFoundError,
    ModelUploadError,
    RequiredAttributeMissing,
    require_dns_compliance,
)
from emulator.wallaroo.sdk.pipeline import Pipeline, Pipelines
from emulator.wallaroo.sdk.workspace import Workspace, Workspaces

DEFAULT_API_ENDPOINT_2023 = "http://api-lb:8080"
DEFAULT_TIME_FORMAT = "%Y-%d-%b %H:%M:%S"
TASK_ARGS_FILENAME = "/home/jovyan/arguments.json"
FRAMEWORK_ERROR = "framework must be a Framework Enum. Example: Framework.PYTORCH, Framework.TENSORFLOW"
MISSING_URL_ERROR = ("auth_type, and api_endpoint must be provided or set in environment as "
                     "WALLAROO_SDK_AUTH_TYPE, and WALLAROO_URL respectively.")
CONNECTION_EXISTS = "This connection already exists.  Please choose a different connection name."


def _args_2023(api_endpoint: Any = UNSET, auth_endpoint: str = "", request_timeout: Any = None,
               auth_type: Any = None, gql_client: Any = None, interactive: Any = None,
               time_format: str = DEFAULT_TIME_FORMAT) -> dict[str, Any]:
    return dict(locals())


def _args_newest(api_endpoint: Any = None, request_timeout: Any = None, auth_type: Any = None,
                 gql_client: Any = None, interactive: Any = None, time_format: str = DEFAULT_TIME_FORMAT,
                 config: Any = None) -> dict[str, Any]:
    return dict(locals())


def _bind(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        return func(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(str(exc).replace(f"{func.__name__}()", "Client.__init__()")) from None


def _active() -> Any:
    from emulator.emulator import active_emulator

    emu = active_emulator()
    if emu is None or getattr(emu, "wallaroo", None) is None:
        raise RuntimeError("wallaroo.Client() needs an active wallaroo emulator (with Emulator(): ...)")
    return emu


class _ClientType(type):
    @property
    def __signature__(cls) -> inspect.Signature:
        """``inspect.signature(wallaroo.Client)`` shows the active profile's constructor."""
        func = _args_newest if profiles.current().newest else _args_2023
        signature = inspect.signature(func)
        params = [p.replace(default=DEFAULT_API_ENDPOINT_2023) if p.default is UNSET else p
                  for p in signature.parameters.values()]
        return signature.replace(parameters=params, return_annotation=inspect.Signature.empty)


class Client(metaclass=_ClientType):
    """A connection to the (emulated) Wallaroo platform."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        emu = _active()
        self._emu = emu
        self._emulator = emu
        self._backend = emu.wallaroo
        self._profile = profiles.get(emu.sdk)
        if self._profile.newest:
            params = _bind(_args_newest, args, kwargs)
            auth_type = params["auth_type"]
            api_endpoint = params["api_endpoint"]
            if "WALLAROO_TASK_ID" in os.environ:
                auth_type = "orch"
            auth_type = auth_type if auth_type is not None else os.environ.get("WALLAROO_SDK_AUTH_TYPE")
            api_endpoint = api_endpoint if api_endpoint is not None else os.environ.get("WALLAROO_URL")
            if not auth_type or not api_endpoint:
                raise ValueError(MISSING_URL_ERROR)
            self.auth_endpoint = api_endpoint
            self._config = dict(params["config"]) if params["config"] is not None else {"default_arch": "x86"}
        else:
            params = _bind(_args_2023, args, kwargs)
            auth_type = params["auth_type"]
            if "WALLAROO_TASK_ID" in os.environ:
                auth_type = "orch"
            elif auth_type is None:
                auth_type = os.environ.get("WALLAROO_SDK_AUTH_TYPE")
            auth_endpoint = params["auth_endpoint"] or os.environ.get(
                "WALLAROO_AUTH_URL", os.environ.get("WALLAROO_SDK_AUTH_ENDPOINT", DEFAULT_API_ENDPOINT_2023))
            api_endpoint = os.environ.get("WALLAROO_URL", params["api_endpoint"])
            if api_endpoint is UNSET:
                from emulator.emulator import WALLAROO_EMULATOR_URL

                api_endpoint = WALLAROO_EMULATOR_URL
            self.auth_endpoint = auth_endpoint
            self._config = {}
        self.api_endpoint: str = str(api_endpoint).rstrip("/")
        timeout = params["request_timeout"]
        if timeout is None:
            timeout = float(os.environ.get("WALLAROO_REQUEST_TIMEOUT", 45))
        self.timeout = timeout
        self._request_timeout = timeout
        self._gql_client = params["gql_client"]
        self._interactive = bool(params["interactive"])
        self._time_format = params["time_format"]
        self._task_args_filename = TASK_ARGS_FILENAME
        self._in_task = "WALLAROO_TASK_ID" in os.environ
        self.auth = auth_module.create(self.auth_endpoint, auth_type,
                                       token_seed=emu.ids.hex(16, "auth_token"))
        self._user = self._backend.user(self.auth.user_email, self.auth.user_id)
        self._current_workspace: Workspace | None = None

    # -- workspaces -------------------------------------------------------------------------
    def list_workspaces(self) -> Workspaces:
        return Workspaces([Workspace(self, w.id) for w in self._backend.list_workspaces(self._user)])

    def create_workspace(self, workspace_name: str) -> Workspace:
        require_dns_compliance(workspace_name)
        try:
            record = self._backend.create_workspace(workspace_name, self._user)
        except AlreadyExists:
            raise Exception(f"Failed to create workspace: a workspace named '{workspace_name}' "
                            "already exists") from None
        return Workspace(self, record.id)

    @newest_only
    def get_workspace(self, name: str, create_if_not_exist: bool = False) -> Workspace | None:
        """The workspace named ``name``; created when missing with ``create_if_not_exist=True``.

        Unlike ``create_workspace``, the SDK makes no DNS check here: the platform takes the name
        as given (underscores included)."""
        record = self._backend.workspace_by_name(name)
        if record is not None:
            return Workspace(self, record.id)
        if create_if_not_exist:
            try:
                return Workspace(self, self._backend.create_workspace(name, self._user).id)
            except InvalidRequest as exc:
                raise Exception(f"Failed to create workspace: {exc}") from None
        raise Exception(
            f"Error: Workspace with name {name} does not exist. If you would like to create one, send in the "
            "request with `create_if_not_exist` flag set to True.")

    def set_current_workspace(self, workspace: Workspace) -> Workspace:
        if not isinstance(workspace, Workspace):
            raise TypeError("Workspace type was expected")
        self._current_workspace = workspace
        return workspace

    def get_current_workspace(self) -> Workspace:
        if self._current_workspace is None:
            self._current_workspace = Workspace(self, self._backend.default_workspace(self._user).id)
        return self._current_workspace

    def _current_workspace_id(self) -> int:
        return self.get_current_workspace().id()

    # -- models -----------------------------------------------------------------------------
    def upload_model(self, name: str, path: str | os.PathLike[str], framework: Framework | None = None,
                     input_schema: Any = None, output_schema: Any = None, convert_wait: bool = True,
                     arch: Any = UNSET, accel: Any = UNSET, framework_config: Any = UNSET) -> ModelVersion:
        """Upload a model file; without ``framework`` an ONNX file is recognised (as the 2023.2 tutorial relies on)."""
        reject_newer_args(self._profile, "upload_model", arch=arch, accel=accel, framework_config=framework_config)
        if framework is not None and not isinstance(framework, Framework):
            raise ValueError(FRAMEWORK_ERROR)
        require_dns_compliance(name)
        with open(os.fspath(path), "rb") as handle:
            data = handle.read()
        if framework is None:
            from emulator.wallaroo.inference import sniff_onnx

            if not sniff_onnx(data):
                raise ValueError(FRAMEWORK_ERROR)
            framework = Framework.ONNX
        check_available(framework)
        arch_value = profiles.value(arch)
        accel_value = profiles.value(accel)
        try:
            record = self._backend.upload_model(
                self._current_workspace_id(), name, data, os.path.basename(os.fspath(path)), framework.value,
                self._user, input_schema=input_schema, output_schema=output_schema,
                arch=str(arch_value) if arch_value is not None else None,
                accel=str(accel_value) if accel_value is not None else None)
        except ModelUploadFailed as exc:
            raise ModelUploadError(str(exc)) from None
        return facade_for(self, record.id)

    def list_models(self, workspace_id: Any = UNSET, workspace_name: Any = UNSET) -> list[Any]:
        """Models of the current workspace, or of the one named (newest SDK)."""
        reject_newer_args(self._profile, "list_models", workspace_id=workspace_id, workspace_name=workspace_name)
        chosen = self._workspace_filter(workspace_id, workspace_name)
        workspace = self._backend.workspace(chosen if chosen is not None else self._current_workspace_id())
        return models_of(self, workspace.model_ids)

    @newest_only
    def get_model(self, name: str, version: str | None = None) -> ModelVersion:
        versions = self._backend.model_versions_by_name(name, self._current_workspace_id())
        if version is not None:
            versions = [v for v in versions if v.version == version]
        if not versions:
            raise EntityNotFoundError("Model", {"name": name} if version is None else {"name": name, "version": version})
        return facade_for(self, versions[-1].id)

    # -- pipelines --------------------------------------------------------------------------
    def _workspace_filter(self, workspace_id: Any, workspace_name: Any) -> int | None:
        workspace_id = profiles.value(workspace_id)
        workspace_name = profiles.value(workspace_name)
        if workspace_id is not None:
            return int(workspace_id)
        if workspace_name is not None:
            record = self._backend.workspace_by_name(workspace_name)
            if record is None:
                raise Exception(f"Workspace with name {workspace_name} does not exist.")
            return record.id
        return None

    def _pipeline_list(self, records: list[Any]) -> list[Pipeline]:
        items = [Pipeline(self, r.id) for r in records]
        return Pipelines(items) if self._profile.newest else items

    def list_pipelines(self, workspace_id: Any = UNSET, workspace_name: Any = UNSET) -> list[Pipeline]:
        reject_newer_args(self._profile, "list_pipelines", workspace_id=workspace_id, workspace_name=workspace_name)
        return self._pipeline_list(self._backend.list_pipelines(self._workspace_filter(workspace_id, workspace_name)))

    def pipelines_by_name(self, pipeline_name: str, workspace_id: Any = UNSET,
                          workspace_name: Any = UNSET) -> list[Pipeline]:
        reject_newer_args(self._profile, "pipelines_by_name", workspace_id=workspace_id,
                          workspace_name=workspace_name)
        records = self._backend.pipelines_by_name(pipeline_name, self._workspace_filter(workspace_id, workspace_name))
        if not records:
            raise EntityNotFoundError("Pipeline", {"pipeline_name": pipeline_name})
        return self._pipeline_list(records)

    @newest_only
    def get_pipeline(self, name: str, version: str | None = None) -> Pipeline:
        record = self._backend.pipeline_in_workspace(self._current_workspace_id(), name)
        if record is None:
            raise Exception(f"Pipeline {name} not found in this workspace.")
        if version is not None and not any(v.version == version for v in record.versions):
            raise Exception(f"Pipeline version {version} not found for pipeline {name}.")
        return Pipeline(self, record.id)

    def build_pipeline(self, pipeline_name: str) -> Pipeline:
        require_dns_compliance(pipeline_name)
        try:
            record = self._backend.create_pipeline(self._current_workspace_id(), pipeline_name, self._user)
        except InvalidRequest as exc:
            raise Exception(f"Failed to create pipeline: {exc}") from None
        return Pipeline(self, record.id)

    def list_deployments(self) -> list[Deployment]:
        return [Deployment(self, d.id) for d in self._backend.list_deployments()]

    # -- connections ------------------------------------------------------------------------
    def _connection_record(self, name: str) -> Any:
        try:
            return self._backend.connection_by_name(name)
        except NotFound:
            if self._profile.missing_connection == "required_attribute":
                raise RequiredAttributeMissing("Connection", "id") from None
            raise Exception("Failed to get connection") from None

    def create_connection(self, name: str, connection_type: str, details: dict[str, Any]) -> Connection:
        if not isinstance(details, dict):
            raise TypeError(f"details must be a dict, got {type(details).__name__}")
        try:
            record = self._backend.create_connection(name, connection_type, details)
        except AlreadyExists:
            raise Exception(CONNECTION_EXISTS) from None
        return Connection(self, record.id)

    def get_connection(self, name: str) -> Connection:
        return Connection(self, self._connection_record(name).id)

    def list_connections(self) -> ConnectionList:
        return ConnectionList([Connection(self, r.id) for r in self._backend.list_connections()])

    # -- orchestrations and tasks (implemented in wallaroo.orchestration / wallaroo.task) ---
    def upload_orchestration(self, bytes_buffer: bytes | None = None, path: str | None = None,
                             name: str | None = None, file_name: str | None = None) -> Any:
        from emulator.wallaroo.sdk import orchestration

        return orchestration.upload_orchestration(self, bytes_buffer=bytes_buffer, path=path, name=name,
                                                  file_name=file_name)

    def list_orchestrations(self, workspace_id: Any = UNSET, workspace_name: Any = UNSET) -> Any:
        reject_newer_args(self._profile, "list_orchestrations", workspace_id=workspace_id,
                          workspace_name=workspace_name)
        from emulator.wallaroo.sdk import orchestration

        kwargs = {k: v for k, v in (("workspace_id", workspace_id), ("workspace_name", workspace_name))
                  if v is not UNSET}
        return orchestration.list_orchestrations(self, **kwargs)

    def list_tasks(self, killed: bool = False, workspace_id: Any = UNSET, workspace_name: Any = UNSET) -> Any:
        reject_newer_args(self._profile, "list_tasks", workspace_id=workspace_id, workspace_name=workspace_name)
        from emulator.wallaroo.sdk import task

        kwargs = {k: v for k, v in (("workspace_id", workspace_id), ("workspace_name", workspace_name))
                  if v is not UNSET}
        return task.list_tasks(self, killed=killed, **kwargs)

    def get_task_by_id(self, task_id: str) -> Any:
        from emulator.wallaroo.sdk import task

        return task.get_task_by_id(self, task_id)

    def task_args(self) -> dict[str, Any]:
        from emulator.wallaroo.sdk import task

        return task.task_args(self)

    def in_task(self) -> bool:
        from emulator.wallaroo.sdk import task

        return task.in_task(self)

