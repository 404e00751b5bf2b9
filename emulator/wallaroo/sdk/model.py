"""``wallaroo.model``: ``Model``, what ``upload_model`` returns in the 2023.2 SDK (one model version)."""

from __future__ import annotations

from emulator.wallaroo.sdk.model_version import ModelVersion


class Model(ModelVersion):
    """A model version as the 2023.2 SDK names it."""


def facade_for(client: object, version_id: int) -> ModelVersion:
    """``Model`` for 2023.2 clients, ``ModelVersion`` for the newest."""
    profile = client._profile  # type: ignore[attr-defined]
    cls = Model if profile.model_class == "Model" else ModelVersion
    return cls(client, version_id)  # type: ignore[arg-type]
