"""``wallaroo.connection``: ``Connection`` and ``ConnectionList`` (details render as ``*****``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.wallaroo.errors import NotFound
from emulator.wallaroo.sdk import _html

if TYPE_CHECKING:
    from emulator.wallaroo.sdk.client import Client

HIDDEN = "*****"


class Connection:
    """A data connection, by id (the SDK object holds only the id and reads the rest lazily)."""

    def __init__(self, client: Client, connection_id: str) -> None:
        self.client = client
        self._id = str(connection_id)

    @property
    def _record(self) -> Any:
        try:
            return self.client._backend.connection(self._id)
        except NotFound:
            raise Exception("Failed to get connection") from None

    def id(self) -> str:
        return self._id

    def name(self) -> str:
        return self._record.name

    def connection_type(self) -> str:
        return self._record.type

    def details(self) -> dict[str, Any]:
        return dict(self._record.details)

    def created_at(self) -> str:
        """The creation instant as the platform sends it: an ISO 8601 string."""
        return self._record.created_at_iso()

    def workspace_names(self) -> list[str]:
        return self.client._backend.workspace_names(self._record)

    def delete_connection(self) -> None:
        self.client._backend.delete_connection(self.name())

    def _repr_html_(self) -> str:
        record = self._record
        return _html.field_value_table([
            ("Name", record.name), ("Connection Type", record.type), ("Details", HIDDEN),
            ("Created At", record.created_at_iso()),
            ("Linked Workspaces", self.client._backend.workspace_names(record)),
        ])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Connection) and other._id == self._id

    def __hash__(self) -> int:
        return hash(("connection", self._id))


class ConnectionList(list):
    """A list of :class:`Connection` with the SDK's HTML table."""

    def _repr_html_(self) -> str:
        rows = []
        for conn in self:
            record = conn._record
            rows.append([record.name, record.type, HIDDEN, record.created_at_iso(),
                         conn.client._backend.workspace_names(record)])
        return _html.list_table(["name", "connection type", "details", "created at", "linked workspaces"], rows,
                                "(no connections)")
