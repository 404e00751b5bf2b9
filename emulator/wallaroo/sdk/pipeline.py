"""``wallaroo.pipeline``: ``Pipeline`` (builder, deploy/undeploy, status, infer, logs).

``add_model_step`` and friends only change the local builder; ``deploy()`` stores the
builder's steps as a new pipeline version (or, with an untouched builder, the latest version's
steps again), deploys it and waits, in virtual time, until it is ``Running``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from emulator.wallaroo import profiles
from emulator.wallaroo.errors import InferenceFailed, InvalidRequest, NotEmulated, NotEmulatedError, NotFound
from emulator.wallaroo.sdk import _html
from emulator.wallaroo.sdk.model_version import ModelVersion

if TYPE_CHECKING:
    from emulator.wallaroo.sdk.client import Client
    from emulator.wallaroo.sdk.deployment import Deployment
    from emulator.wallaroo.sdk.pipeline_version import PipelineVersion

DEFAULT_LOG_LIMIT = 100
#: Printed when more log records exist than were returned *(guess at the SDK's exact wording)*.
LOGS_LIMITED_WARNING = ("Warning: There are more logs available. Please set a larger limit or request a file "
                        "using export_logs.")


def definition_steps(backend: Any, steps: list[list[int]]) -> list[dict[str, Any]]:
    result = []
    for step in steps:
        models = []
        for version_id in step:
            mv = backend.model_version(version_id)
            models.append({"name": mv.name, "version": mv.version, "sha": mv.sha})
        result.append({"ModelInference": {"models": models}})
    return result


def inference_error(exc: InferenceFailed, profile: profiles.Profile) -> Exception:
    """The SDK's ``InferenceError`` for an engine error, in the profile's message format."""
    from emulator.wallaroo.sdk.exceptions import InferenceError

    if profile.newest:
        message = f"Inference failed: [{exc.status}] {exc.message} (source: engine, status: Error)"
    else:
        message = f"Inference failed: \n\t{exc.error_type}: {exc.message}"
    return InferenceError(message, code=exc.status, status="Error", error=exc.message, source="engine")



def not_deployed(pipeline_name: str) -> RuntimeError:
    """``infer`` on a pipeline with no running deployment: the SDK's own error, with a note naming it.

    The real SDK (2023.2.1 to 2026.1.3) raises ``RuntimeError("Pipeline {self.name} is not
    deployed")``, braces included (a string it forgot to make an f-string); code may match that
    text, so it is kept, and a note (shown under the message in tracebacks) says which pipeline.
    """
    error = RuntimeError("Pipeline {self.name} is not deployed")
    error.add_note(f"wallaroo-emulator: pipeline {pipeline_name!r} has no running deployment; "
                   "call pipeline.deploy() (and wait for status 'Running') before infer()")
    return error

class Pipeline:
    """A pipeline, by id, with a local step builder."""

    def __init__(self, client: Client, pipeline_id: int) -> None:
        self.client = client
        self._id = int(pipeline_id)
        self._builder: list[ModelVersion] | None = None

    @property
    def _record(self) -> Any:
        return self.client._backend.pipeline(self._id)

    @property
    def _profile(self) -> profiles.Profile:
        return self.client._profile

    # -- accessors ------------------------------------------------------------------------
    def id(self) -> int:
        return self._id

    def name(self) -> str:
        return self._record.name

    def create_time(self) -> datetime:
        return self._record.created_at

    def last_update_time(self) -> datetime:
        return self._record.updated_at

    def tags(self) -> list[str]:
        return list(self._record.tags)

    def workspace(self) -> Any:
        from emulator.wallaroo.sdk.workspace import Workspace

        return Workspace(self.client, self._record.workspace_id)

    def versions(self) -> list[PipelineVersion]:
        from emulator.wallaroo.sdk.pipeline_version import PipelineVersion

        return [PipelineVersion(self.client, self._id, v.id) for v in self._record.versions]

    def steps(self) -> list[dict[str, Any]]:
        """The builder's steps, as the SDK shows them: empty for a pipeline object that no
        ``add_model_step`` or ``deploy()`` filled (the platform's versions hold the deployed steps)."""
        return [{"ModelInference": {"models": [m._step_definition()]}} for m in (self._builder or [])]

    def definition(self) -> str:
        """The builder's steps as a string (what the SDK's repr shows as ``definition``)."""
        return str(self.steps())

    def model_configs(self) -> list[Any]:
        return [m.config() for m in (self._builder or [])]

    def url(self) -> str:
        deployment = self._active_deployment()
        if deployment is None:
            raise RuntimeError(f"Pipeline {self.name()} is not deployed")
        name = self.name()
        return f"{self.client.api_endpoint}/v1/api/pipelines/infer/{name}-{deployment.id}/{name}"

    def get_topic_name(self) -> str:
        record = self._record
        return f"workspace-{record.workspace_id}-pipeline-{record.name}-inference"

    # -- builder --------------------------------------------------------------------------
    def _steps_for_edit(self) -> list[ModelVersion]:
        if self._builder is None:
            self._builder = []
        return self._builder

    @staticmethod
    def _require_model(model: Any) -> ModelVersion:
        if not isinstance(model, ModelVersion):
            raise TypeError(f"expected a model version, got {type(model).__name__}")
        return model

    def _add_model_step(self, model_version: Any) -> Pipeline:
        """Perform inference with a single model (a builder step; nothing is stored until ``deploy()``)."""
        self._steps_for_edit().append(self._require_model(model_version))
        return self

    def _add_model_step_2023(self, model: Any) -> Pipeline:
        return self._add_model_step(model)

    def _replace_with_model_step(self, index: int, model_version: Any) -> Pipeline:
        steps = self._steps_for_edit()
        steps[index] = self._require_model(model_version)
        return self

    def _replace_with_model_step_2023(self, index: int, model: Any) -> Pipeline:
        return self._replace_with_model_step(index, model)

    #: The parameter is ``model`` in 2023.2 and ``model_version`` in the newest SDK.
    add_model_step = profiles.by_profile(newest=_add_model_step, legacy=_add_model_step_2023)
    replace_with_model_step = profiles.by_profile(newest=_replace_with_model_step,
                                                  legacy=_replace_with_model_step_2023)

    def remove_step(self, index: int) -> Pipeline:
        del self._steps_for_edit()[index]
        return self

    def clear(self) -> Pipeline:
        self._builder = []
        return self

    # -- deployment -----------------------------------------------------------------------
    def _active_deployment(self) -> Any:
        record = self._record.deployment
        return record if record is not None and record.deployed else None

    def _deployment(self) -> Deployment | None:
        from emulator.wallaroo.sdk.deployment import Deployment

        record = self._record.deployment
        return None if record is None else Deployment(self.client, record.id)

    def deploy(self, pipeline_name: str | None = None, deployment_config: Any = None,
               wait_for_status: Any = profiles.unset(True)) -> Pipeline:
        """Store the steps as a new version, deploy it and wait until ``Running`` (virtual time)."""
        from emulator.wallaroo.sdk.deployment import Deployment
        from emulator.wallaroo.sdk.object import DeploymentError

        profiles.reject_newer_args(self._profile, "deploy", wait_for_status=wait_for_status)
        backend = self.client._backend
        record = self._record
        if pipeline_name is not None and pipeline_name != record.name:
            from emulator.wallaroo.sdk.object import require_dns_compliance

            require_dns_compliance(pipeline_name)
        if self._builder is not None:
            steps = [[m.id()] for m in self._builder]
        else:
            steps = [list(s) for s in record.versions[-1].steps]
            self._fill_builder(steps)
        if not steps:
            raise DeploymentError(f"Pipeline {record.name} has no steps: add a model step before deploying")
        version = backend.create_pipeline_version(self._id, steps)
        config = dict(deployment_config) if deployment_config is not None else {}
        if self._profile.newest:
            config.setdefault("engine", {}).setdefault("arch", "x86")
            config["engine"].setdefault("accel", "none")
        config["workspace_id"] = record.workspace_id
        try:
            dep = backend.deploy(self._id, version.id, config)
        except InvalidRequest as exc:
            raise DeploymentError(str(exc)) from None
        if profiles.value(wait_for_status, True) is False:
            print(f"Deployment initiated for {record.name}. Please check pipeline status.")
            return self
        Deployment(self.client, dep.id).wait_for_running()
        return self

    def _fill_builder(self, steps: list[list[int]]) -> None:
        """Deploying with an untouched builder fills it with the steps deployed, as the SDK does."""
        from emulator.wallaroo.sdk.model import facade_for

        self._builder = [facade_for(self.client, version_id) for step in steps for version_id in step]

    def undeploy(self) -> Pipeline:
        from emulator.wallaroo.sdk.deployment import Deployment

        dep = self.client._backend.undeploy(self._id)
        if dep is not None:
            Deployment(self.client, dep.id).wait_for_undeployed()
        return self

    def status(self) -> dict[str, Any]:
        try:
            return self.client._backend.deployment_status(self._id)
        except NotFound:
            return {"status": f"Pipeline {self.name()} is not deployed"}

    # -- inference ------------------------------------------------------------------------
    def infer(self, tensor: Any, timeout: int | float | None = None, dataset: list[str] | None = None,
              dataset_exclude: list[str] | None = None, dataset_separator: str | None = None) -> Any:
        """Run the deployed pipeline: DataFrame → DataFrame, pa.Table → pa.Table, dict/list → JSON records."""
        import pandas as pd
        import pyarrow as pa

        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)):
            raise TypeError(f"timeout is {type(timeout)} but 'int' or 'float' is required")
        if not isinstance(tensor, pd.DataFrame | pa.Table | dict | list):
            raise TypeError(f"tensor is of type {type(tensor)} but 'pandas.DataFrame', 'pyarrow.Table', "
                            "dict or list is required")
        if self._active_deployment() is None:
            raise not_deployed(self.name())
        if isinstance(tensor, dict | list):
            return self._run(lambda: self.client._backend.infer_records(self._id, tensor))
        if not self._profile.newest and isinstance(tensor, pd.DataFrame):
            _check_row_zero(tensor)
        backend = self.client._backend
        return self._run(lambda: backend.infer(self._id, tensor, dataset=dataset, dataset_exclude=dataset_exclude,
                                               dataset_separator=dataset_separator))

    def _run(self, call: Any) -> Any:
        """One inference through the backend, with the SDK's 503 retries; engine errors as the SDK raises them."""
        try:
            return self.client._backend.retrying_unavailable(call)
        except NotEmulated as exc:
            raise NotEmulatedError(exc.message) from None
        except InferenceFailed as exc:
            if exc.error_type == "NotDeployed":
                raise not_deployed(self.name()) from None
            raise inference_error(exc, self._profile) from None

    def infer_from_file(self, filename: str | os.PathLike[str], data_format: str | None = None,
                        timeout: int | float | None = None, dataset: list[str] | None = None,
                        dataset_exclude: list[str] | None = None, dataset_separator: str | None = None) -> Any:
        """``.arrow`` (Arrow IPC file) → pa.Table result; otherwise pandas-records JSON → DataFrame."""
        import pandas as pd
        import pyarrow as pa

        path = os.fspath(filename)
        if str(path).endswith(".arrow") or data_format == "arrow":
            with pa.memory_map(path, "r") as source:
                try:
                    table = pa.ipc.open_file(source).read_all()
                except pa.ArrowInvalid:
                    source.seek(0)
                    table = pa.ipc.open_stream(source).read_all()
            return self.infer(table, timeout, dataset, dataset_exclude, dataset_separator)
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if isinstance(data, list):
            frame = pd.DataFrame.from_records(data)
        elif isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
            frame = pd.DataFrame(data)  # pandas "columns" orientation
        else:
            return self.infer(data, timeout, dataset, dataset_exclude, dataset_separator)
        return self.infer(frame, timeout, dataset, dataset_exclude, dataset_separator)

    def logs(self, limit: int | None = None, start_datetime: datetime | None = None,
             end_datetime: datetime | None = None, valid: bool | None = None, dataset: list[str] | None = None,
             dataset_exclude: list[str] | None = None, dataset_separator: str | None = None,
             arrow: bool = False) -> Any:
        """What was inferred, newest ``limit`` rows (100 by default) or all rows in the time window."""
        import pandas as pd
        import pyarrow as pa

        from emulator.wallaroo import inference

        if limit is None and start_datetime is None and end_datetime is None:
            limit = DEFAULT_LOG_LIMIT
        result, status = self.client._backend.log_records(self._id, start_datetime, end_datetime, limit, valid)
        if status == "RecordLimited":
            print(LOGS_LIMITED_WARNING)
        if result is None:
            return pa.table({}) if arrow else pd.DataFrame()
        wanted, excluded, separator = inference.sdk_dataset_params(dataset, dataset_exclude, dataset_separator)
        if arrow:
            return result.table(wanted, excluded, separator)
        return result.frame(wanted, excluded, separator)

    # -- rendering ------------------------------------------------------------------------
    def __repr__(self) -> str:
        record = self._record
        return str({"name": record.name, "create_time": _with_tzutc(record.created_at),
                    "definition": self.definition()})

    def _repr_html_(self) -> str:
        record = self._record
        backend = self.client._backend
        deployed: Any = "(none)" if not record.ever_deployed else self._active_deployment() is not None
        versions = ", ".join(v.version for v in reversed(record.versions))
        steps = ", ".join(
            backend.model_version(step[0]).name for step in record.versions[-1].steps if step)
        rows: list[tuple[str, Any]] = [
            ("name", record.name), ("created", record.created_at), ("last_updated", record.updated_at),
            ("deployed", deployed),
        ]
        if self._profile.newest:
            workspace = backend.workspace(record.workspace_id)
            dep = record.deployment
            engine = (dep.engine_config.get("engine", {}) if dep is not None else {})
            rows += [("workspace_id", workspace.id), ("workspace_name", workspace.name),
                     ("arch", engine.get("arch", "x86") if dep is not None else None),
                     ("accel", engine.get("accel", "none") if dep is not None else None)]
        rows += [("tags", ", ".join(record.tags)), ("versions", versions), ("steps", steps)]
        if self._profile.newest:
            rows.append(("published", False))
        return _html.header_rows_table(rows)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and other._id == self._id and other.client._backend is self.client._backend

    def __hash__(self) -> int:
        return hash(("pipeline", self._id))


class Pipelines(list):
    """``pipelines_by_name``/``list_pipelines`` in the newest SDK: a list with an HTML table."""

    def _repr_html_(self) -> str:
        rows = []
        for p in self:
            record = p._record
            rows.append([record.name, record.created_at, record.updated_at,
                         p._active_deployment() is not None, ", ".join(record.tags),
                         ", ".join(v.version for v in reversed(record.versions[-3:])),
                         ", ".join(p.client._backend.model_version(s[0]).name for s in record.versions[-1].steps)])
        return _html.list_table(["name", "created", "last_updated", "deployed", "tags", "versions", "steps"],
                                rows, "(no pipelines)")


class RowZeroMissing(KeyError):
    """2023.2 only: the SDK reads ``df[col][0]`` of every column before sending (``KeyError: 0``)."""

    def __str__(self) -> str:
        return ("0 (the 2023.2 SDK reads row label 0 of every column before sending the request: "
                "use a DataFrame whose index has the label 0, e.g. df.reset_index(drop=True))")


def _empty_frame_error() -> Exception:
    """2023.2: an empty DataFrame fails with ``KeyError: 0`` in the SDK; ours is also an InferenceError."""
    from emulator.wallaroo.sdk.exceptions import InferenceError

    class EmptyFrameError(InferenceError, KeyError):
        def __str__(self) -> str:
            return str(self.args[0])

    EmptyFrameError.__module__ = "wallaroo.object"
    message = "Inference failed: \n\tInvalidInput: the inference request holds no rows"
    return EmptyFrameError(message, code=400, status="Error", error="the inference request holds no rows",
                           source="engine")


def _check_row_zero(frame: Any) -> None:
    """2023.2 pre-flight: reads ``df[col][0]`` and ravels multi-dimensional ndarray cells in place.

    Like ``flatten_np_array_columns`` of the 2023.2 SDK, this mutates the caller's DataFrame.
    """
    import numpy as np

    if not len(frame.columns):
        return
    if frame.empty:
        raise _empty_frame_error()
    index = frame.index
    if index.dtype.kind in "iu" and 0 not in index:
        raise RowZeroMissing(0)
    for column in list(frame.columns):
        first = frame[column][0] if index.dtype.kind in "iu" else frame[column].iloc[0]
        if isinstance(first, np.ndarray) and first.ndim > 1:
            frame[column] = [np.ravel(cell) for cell in frame[column]]


def _with_tzutc(value: datetime) -> datetime:
    try:
        from dateutil.tz import tzutc
    except ImportError:  # pragma: no cover
        return value
    return value.replace(tzinfo=tzutc())
