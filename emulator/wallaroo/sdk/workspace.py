"""``wallaroo.workspace``: ``Workspace`` and the ``Workspaces`` list."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from emulator.wallaroo.errors import NotFound
from emulator.wallaroo.sdk import _html

if TYPE_CHECKING:
    from emulator.wallaroo.sdk.client import Client
    from emulator.wallaroo.sdk.connection import ConnectionList
    from emulator.wallaroo.sdk.pipeline import Pipeline


class Workspace:
    """A workspace, by id; every accessor reads the platform's current state."""

    def __init__(self, client: Client, workspace_id: int) -> None:
        self.client = client
        self._id = int(workspace_id)

    @property
    def _record(self) -> Any:
        return self.client._backend.workspace(self._id)

    def id(self) -> int:
        return self._id

    def name(self) -> str:
        return self._record.name

    def archived(self) -> bool:
        return self._record.archived

    def created_at(self) -> datetime:
        return self._record.created_at

    def created_by(self) -> str | None:
        return self._record.created_by

    def users(self) -> list[str]:
        return list(self._record.users)

    def models(self) -> list[Any]:
        from emulator.wallaroo.sdk.model import models_of

        return models_of(self.client, self._record.model_ids)

    def pipelines(self) -> list[Pipeline]:
        from emulator.wallaroo.sdk.pipeline import Pipeline

        return [Pipeline(self.client, pid) for pid in self._record.pipeline_ids]

    # -- connections -----------------------------------------------------------------------
    def add_connection(self, name: str) -> None:
        backend = self.client._backend
        self.client._connection_record(name)  # the SDK's connections/get, with its error
        backend.add_connection_to_workspace(self._id, name)

    def remove_connection(self, name: str) -> None:
        self.client._connection_record(name)
        self.client._backend.remove_connection_from_workspace(self._id, name)

    def list_connections(self) -> ConnectionList:
        from emulator.wallaroo.sdk.connection import Connection, ConnectionList

        records = self.client._backend.list_connections(self._id)
        return ConnectionList([Connection(self.client, r.id) for r in records])

    # -- rendering -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        record = self._record
        backend = self.client._backend
        return {
            "name": record.name,
            "id": record.id,
            "archived": record.archived,
            "created_by": record.created_by,
            "created_at": record.created_at.isoformat(),
            "models": [backend.models[m].name for m in record.model_ids],
            "pipelines": [backend.pipelines[p].name for p in record.pipeline_ids],
        }

    def __repr__(self) -> str:
        return str(self.to_json())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other._id == self._id and other.client._backend is self.client._backend

    def __hash__(self) -> int:
        return hash(("workspace", self._id))


def _row(record: Any) -> list[Any]:
    return [record.name, record.created_at.strftime("%Y-%m-%d %H:%M:%S"), record.users,
            len(record.model_ids), len(record.pipeline_ids)]


class Workspaces(list):
    """``list_workspaces()``: a list of :class:`Workspace` with an HTML table."""

    def _repr_html_(self) -> str:
        rows = []
        for ws in self:
            try:
                rows.append(_row(ws._record))
            except NotFound:  # pragma: no cover - workspaces are never deleted
                continue
        return _html.list_table(["Name", "Created At", "Users", "Models", "Pipelines"], rows, "(no workspaces)")
