"""``wallaroo.model``: ``Model``, which names a different thing in each SDK.

* 2023.2: ``Model`` is one model version (what ``upload_model`` returns);
* newest: ``Model`` is a model with all its versions (what ``list_models()`` and
  ``Workspace.models()`` return, in a ``ModelList``); a version is a ``ModelVersion``.

``wallaroo.model.Model`` resolves to the active profile's class.
"""

from __future__ import annotations

from typing import Any

from emulator.wallaroo import profiles
from emulator.wallaroo.sdk import _html
from emulator.wallaroo.sdk.model_version import ModelVersion
from emulator.wallaroo.sdk.models import Models


class _VersionModel(ModelVersion):
    """A model version as the 2023.2 SDK names it."""


class _NamedModel(Models):
    """A model and its versions, as the newest SDK names it."""

    def _repr_html_(self) -> str:
        workspace = self.workspace()
        return _html.field_value_table([
            ("Name", self.name()), ("# of Versions", len(self._record.versions)),
            ("Owner ID", self.owner_id()), ("Last Updated", self.last_update_time()),
            ("Created At", self.created_at()), ("Workspace id", workspace.id()),
            ("Workspace name", workspace.name()),
        ])


class ModelList(list):
    """The newest SDK's list of models (``list_models()``, ``Workspace.models()``)."""

    def _repr_html_(self) -> str:
        rows = []
        for m in self:
            workspace = m.workspace()
            rows.append([m.name(), len(m._record.versions), m.owner_id(), m.last_update_time(), m.created_at(),
                         workspace.id(), workspace.name()])
        return _html.list_table(["Name", "# of Versions", "Owner ID", "Last Updated", "Created At",
                                 "Workspace id", "Workspace name"], rows, "(no models)")


for _cls in (_VersionModel, _NamedModel):
    _cls.__name__ = _cls.__qualname__ = "Model"


def __getattr__(name: str) -> Any:
    if name == "Model":
        return _NamedModel if profiles.current().newest else _VersionModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def facade_for(client: Any, version_id: int) -> ModelVersion:
    """``Model`` for 2023.2 clients, ``ModelVersion`` for the newest."""
    profile = client._profile
    cls = _VersionModel if profile.model_class == "Model" else ModelVersion
    return cls(client, version_id)


def models_of(client: Any, model_ids: list[int]) -> list[Any]:
    """The profile's list of models: ``ModelList`` of ``Model`` (newest) or 2023.2's ``ModelsList`` of ``Models``."""
    from emulator.wallaroo.sdk.models import ModelsList

    if client._profile.newest:
        return ModelList([_NamedModel(client, mid) for mid in model_ids])
    return ModelsList([Models(client, mid) for mid in model_ids])
