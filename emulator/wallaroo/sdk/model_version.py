"""``wallaroo.model_version``: one uploaded version of a model (``ModelVersion``, newest SDK).

The 2023.2 SDK calls the same thing ``wallaroo.model.Model``; both classes share this code.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from emulator.wallaroo import profiles
from emulator.wallaroo.sdk import _html

if TYPE_CHECKING:
    from emulator.wallaroo.sdk.client import Client
    from emulator.wallaroo.sdk.model_config import ModelConfig


class ModelVersion:
    """A model version: name, version uuid, sha256 of the file, framework, configuration."""

    def __init__(self, client: Client, version_id: int) -> None:
        self.client = client
        self._id = int(version_id)

    @property
    def _record(self) -> Any:
        return self.client._backend.model_version(self._id)

    @property
    def _profile(self) -> profiles.Profile:
        return self.client._profile

    # -- accessors ------------------------------------------------------------------------
    def id(self) -> int:
        return self._id

    def name(self) -> str:
        return self._record.name

    def version(self) -> str:
        return self._record.version

    def models_pk_id(self) -> int:
        return self._record.model_id

    def sha(self) -> str:
        return self._record.sha

    def status(self) -> str:
        return self._record.status

    def file_name(self) -> str:
        return self._record.file_name

    def image_path(self) -> str | None:
        return self._record.image_path

    @profiles.newest_only
    def arch(self) -> str:
        return self._record.arch

    @profiles.newest_only
    def accel(self) -> str:
        return self._record.accel

    def framework(self) -> str:
        return self._record.framework

    def last_update_time(self) -> datetime:
        return self._record.updated_at

    def created_at(self) -> datetime:
        return self._record.created_at

    def input_schema(self) -> Any:
        return self._record.input_schema

    def output_schema(self) -> Any:
        return self._record.output_schema

    def config(self) -> ModelConfig | None:
        from emulator.wallaroo.sdk.model_config import ModelConfig

        record = self._record.config
        return None if record is None else ModelConfig(self.client, record)

    # -- configuration --------------------------------------------------------------------
    def configure(
        self,
        runtime: str | None = None,
        tensor_fields: list[str] | None = None,
        filter_threshold: float | None = None,
        input_schema: Any = None,
        output_schema: Any = None,
        batch_config: str | None = None,
        dynamic_batching_config: Any = profiles.UNSET,
        continuous_batching_config: Any = profiles.UNSET,
        openai_config: Any = profiles.UNSET,
    ) -> ModelVersion:
        """Store the model's configuration (``tensor_fields`` maps request columns to inputs); returns self."""
        profiles.reject_newer_args(
            self._profile, "configure", dynamic_batching_config=dynamic_batching_config,
            continuous_batching_config=continuous_batching_config, openai_config=openai_config)
        if tensor_fields is not None:
            if isinstance(tensor_fields, str) or not all(isinstance(f, str) for f in tensor_fields):
                raise TypeError("tensor_fields must be a list of strings")
            tensor_fields = list(tensor_fields)
        extra = {k: profiles.value(v) for k, v in (
            ("dynamic_batching_config", dynamic_batching_config),
            ("continuous_batching_config", continuous_batching_config),
            ("openai", openai_config)) if v is not profiles.UNSET}
        self.client._backend.configure_model(
            self._id, runtime=runtime, tensor_fields=tensor_fields, filter_threshold=filter_threshold,
            input_schema=input_schema, output_schema=output_schema, batch_config=batch_config, **extra)
        return self

    # -- rendering ------------------------------------------------------------------------
    def _step_definition(self) -> dict[str, str]:
        record = self._record
        return {"name": record.name, "version": record.version, "sha": record.sha}

    def to_dict(self) -> dict[str, Any]:
        record = self._record
        data: dict[str, Any] = {"name": record.name, "version": record.version, "file_name": record.file_name,
                                "image_path": record.image_path}
        if self._profile.newest:
            data["arch"] = record.arch
            data["accel"] = record.accel
        data["last_update_time"] = record.updated_at
        return data

    def __repr__(self) -> str:
        return str(self.to_dict())

    def _repr_html_(self) -> str:
        record = self._record
        newest = self._profile.newest
        rows: list[tuple[str, Any]] = [
            ("Name", record.name), ("Version", record.version), ("File Name", record.file_name),
            ("SHA", record.sha), ("Status", record.status),
        ]
        if newest:
            rows.append(("Error Summary", "None"))
        rows.append(("Image Path", record.image_path))
        if newest:
            rows += [("Architecture", record.arch), ("Acceleration", record.accel)]
        rows.append(("Updated At", record.updated_at.strftime(self.client._time_format)))
        if newest:
            workspace = self.client._backend.workspace(record.workspace_id)
            rows += [("Workspace id", workspace.id), ("Workspace name", workspace.name)]
        return _html.field_value_table(rows)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelVersion) and other._id == self._id and other.client._backend is self.client._backend

    def __hash__(self) -> int:
        return hash(("model_version", self._id))
