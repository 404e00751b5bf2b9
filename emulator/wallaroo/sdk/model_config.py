"""``wallaroo.model_config``: the configuration a model version was given with ``configure()``."""

from __future__ import annotations

from typing import Any


class ModelConfig:
    def __init__(self, client: Any, record: Any) -> None:
        self.client = client
        self._record = record

    def id(self) -> int:
        return self._record.id

    def runtime(self) -> str:
        return self._record.runtime

    def tensor_fields(self) -> list[str] | None:
        return None if self._record.tensor_fields is None else list(self._record.tensor_fields)

    def filter_threshold(self) -> float | None:
        return self._record.filter_threshold

    def input_schema(self) -> Any:
        return self._record.input_schema

    def output_schema(self) -> Any:
        return self._record.output_schema

    def batch_config(self) -> Any:
        return self._record.batch_config

    def to_dict(self) -> dict[str, Any]:
        return self._record.to_dict()

