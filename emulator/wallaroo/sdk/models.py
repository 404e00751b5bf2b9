"""``wallaroo.models``: a model with all its versions (``Models``) and ``ModelsList``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from emulator.wallaroo.sdk import _html


class Models:
    def __init__(self, client: Any, model_id: int) -> None:
        self.client = client
        self._id = int(model_id)

    @property
    def _record(self) -> Any:
        return self.client._backend.models[self._id]

    def id(self) -> int:
        return self._id

    def name(self) -> str:
        return self._record.name

    def owner_id(self) -> str | None:
        return self._record.owner_id

    def created_at(self) -> datetime:
        return self._record.created_at

    def last_update_time(self) -> datetime:
        versions = self._record.versions
        return versions[-1].updated_at if versions else self._record.created_at

    def versions(self) -> list[Any]:
        from emulator.wallaroo.sdk.model import facade_for

        return [facade_for(self.client, v.id) for v in self._record.versions]

    def workspace(self) -> Any:
        from emulator.wallaroo.sdk.workspace import Workspace

        return Workspace(self.client, self._record.workspace_id)

    def __repr__(self) -> str:
        return str({"name": self.name(), "versions": len(self._record.versions), "owner_id": self.owner_id(),
                    "last_update_time": self.last_update_time(), "created_at": self.created_at()})

    def _repr_html_(self) -> str:
        return _html.field_value_table([
            ("Name", self.name()), ("# of Versions", len(self._record.versions)),
            ("Owner ID", self.owner_id()), ("Last Updated", self.last_update_time()),
            ("Created At", self.created_at()),
        ])


class ModelsList(list):
    def _repr_html_(self) -> str:
        rows = [[m.name(), len(m._record.versions), m.owner_id(), m.last_update_time(), m.created_at()] for m in self]
        return _html.list_table(["Name", "# of Versions", "Owner ID", "Last Updated", "Created At"], rows,
                                "(no models)")
