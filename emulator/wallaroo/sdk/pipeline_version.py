"""``wallaroo.pipeline_version``: one version (variant) of a pipeline's definition."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class PipelineVersion:
    def __init__(self, client: Any, pipeline_id: int, version_id: int) -> None:
        self.client = client
        self._pipeline_id = int(pipeline_id)
        self._id = int(version_id)

    @property
    def _record(self) -> Any:
        pipeline = self.client._backend.pipeline(self._pipeline_id)
        return next(v for v in pipeline.versions if v.id == self._id)

    def id(self) -> int:
        return self._id

    def name(self) -> str:
        """The version's uuid."""
        return self._record.version

    def create_time(self) -> datetime:
        return self._record.created_at

    def last_update_time(self) -> datetime:
        return self._record.created_at

    def definition(self) -> dict[str, Any]:
        from emulator.wallaroo.sdk.pipeline import definition_steps

        return {"id": self.client._backend.pipeline(self._pipeline_id).name,
                "steps": definition_steps(self.client._backend, self._record.steps)}

    def pipeline(self) -> Any:
        from emulator.wallaroo.sdk.pipeline import Pipeline

        return Pipeline(self.client, self._pipeline_id)

