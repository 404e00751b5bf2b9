"""The platform's records: plain dataclasses the backend keeps and hands out.

Read them freely; change them only through :class:`emulator.wallaroo.backend.WallarooBackend`'s
methods (the GraphQL and REST adapters render them, the facade wraps them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class User:
    id: str | None
    email: str


@dataclass
class WorkspaceRecord:
    id: int
    name: str
    created_at: datetime
    created_by: str | None
    archived: bool = False
    users: list[str] = field(default_factory=list)  # emails
    model_ids: list[int] = field(default_factory=list)  # ModelRecord ids
    pipeline_ids: list[int] = field(default_factory=list)


@dataclass
class ModelConfigRecord:
    id: int
    model_version_id: int
    runtime: str
    tensor_fields: list[str] | None = None
    filter_threshold: float | None = None
    input_schema: str | None = None
    output_schema: str | None = None
    batch_config: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "model_version_id": self.model_version_id, "runtime": self.runtime,
            "filter_threshold": self.filter_threshold, "tensor_fields": self.tensor_fields,
            "input_schema": self.input_schema, "output_schema": self.output_schema,
            "batch_config": self.batch_config, **self.extra,
        }


@dataclass
class ModelVersionRecord:
    id: int
    model_id: int
    name: str
    version: str  # uuid
    sha: str
    file_name: str
    framework: str  # Framework enum value, e.g. "onnx"
    workspace_id: int
    owner_id: str | None
    created_at: datetime
    updated_at: datetime
    data: bytes = field(repr=False, default=b"")
    status: str = "ready"
    image_path: str | None = None
    arch: str = "x86"
    accel: str = "none"
    input_schema: Any = None
    output_schema: Any = None
    config: ModelConfigRecord | None = None


@dataclass
class ModelRecord:
    id: int
    name: str
    workspace_id: int
    owner_id: str | None
    created_at: datetime
    versions: list[ModelVersionRecord] = field(default_factory=list)


@dataclass
class PipelineVersionRecord:
    id: int
    version: str  # uuid
    pipeline_id: int
    steps: list[list[int]]  # one list of model-version ids per ModelInference step
    created_at: datetime


@dataclass
class DeploymentRecord:
    id: int
    deploy_id: str  # the pipeline name
    pipeline_id: int
    version: PipelineVersionRecord
    status: str  # Starting | Running | Undeploying
    deployed: bool
    created_at: datetime
    engine_config: dict[str, Any] = field(default_factory=dict)
    engine_name: str = ""
    engine_ip: str = ""
    lb_name: str = ""
    lb_ip: str = ""

    @property
    def name(self) -> str:
        """``<pipeline>-<deployment id>``: the name status and inference URLs use."""
        return f"{self.deploy_id}-{self.id}"


@dataclass
class LogBatch:
    """The inputs and outputs of one successful inference call (all rows share ``time_ms``)."""

    time_ms: int
    n: int
    pipeline_version: str
    inputs: dict[str, Any]  # column name → one object per row (numpy object array or arrays)
    outputs: dict[str, Any]  # output name → batch-major numpy array


@dataclass
class PipelineRecord:
    id: int
    name: str
    workspace_id: int
    owner_id: str | None
    created_at: datetime
    updated_at: datetime
    versions: list[PipelineVersionRecord] = field(default_factory=list)
    deployment: DeploymentRecord | None = None
    ever_deployed: bool = False
    tags: list[str] = field(default_factory=list)
    log: list[LogBatch] = field(default_factory=list)


@dataclass
class ConnectionRecord:
    id: str
    name: str
    type: str
    details: dict[str, Any]
    created_at: datetime
    workspace_ids: list[int] = field(default_factory=list)
    links: dict[int, str] = field(default_factory=dict)  # workspace id → link id

    def created_at_iso(self) -> str:
        return self.created_at.isoformat()

    def __repr__(self) -> str:
        """The fields, with the key material in ``details`` masked (it would end up in CI logs)."""
        from emulator.redaction import redacted

        return (f"ConnectionRecord(id={self.id!r}, name={self.name!r}, type={self.type!r}, "
                f"details={redacted(self.details)!r}, created_at={self.created_at!r}, "
                f"workspace_ids={self.workspace_ids!r}, links={self.links!r})")
