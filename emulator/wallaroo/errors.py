"""Errors of the emulated Wallaroo platform backend.

The backend raises these plain exceptions, each with the HTTP ``status`` the platform answers
it with. The ``wallaroo`` facade (``emulator.wallaroo.sdk``) maps each of them once to the
exception the real SDK raises for the same server answer; the HTTP wire maps them once to the
platform's error bodies (:func:`emulator.wallaroo.wire.guarded`). Orchestration and task errors
(:class:`emulator.wallaroo.orchestrations.OrchestrationError` and its subclasses) belong to the
same hierarchy.
"""

from __future__ import annotations


class WallarooBackendError(Exception):
    """Base class of everything the platform backend refuses."""

    status = 400


class NotFound(WallarooBackendError):
    """An entity (workspace, model, pipeline, deployment, connection...) does not exist."""

    status = 404

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} not found: {key!r}")
        self.kind = kind
        self.key = key


class AlreadyExists(WallarooBackendError):
    """A uniquely named entity exists already (HTTP 409 on the real platform)."""

    status = 409

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} {name!r} already exists")
        self.kind = kind
        self.name = name


class InvalidRequest(WallarooBackendError):
    """A request the platform rejects (bad name, no steps, unreadable model file...)."""


class ModelUploadFailed(InvalidRequest):
    """The uploaded file is not a model of the declared framework."""


class InferenceFailed(WallarooBackendError):
    """The engine rejected an inference request; nothing was logged.

    ``error_type`` mirrors the engine's error class name (``InvalidInput``, ``NotDeployed``...).
    """

    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status


class NotEmulated(InferenceFailed):
    """Inference with a framework the emulator cannot run (only ONNX runs, or a registered callable)."""

    def __init__(self, message: str) -> None:
        super().__init__("NotEmulated", message, status=501)


class NotEmulatedError(NotImplementedError):
    """Raised by the ``wallaroo`` facade for inference the emulator cannot perform.

    Only ONNX models run; any other framework needs a Python callable registered with
    ``emu.wallaroo.register_model_callable(model_name, func)``.
    """
