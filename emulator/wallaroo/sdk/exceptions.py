"""``wallaroo.exceptions`` (newest SDK): API errors, with ``InferenceError`` among them."""

from __future__ import annotations


class WallarooAPIError(Exception):
    """An error answer of the platform: ``code``, ``status``, ``error`` and ``source``."""

    def __init__(self, message: str, code: int | None = None, status: str | None = None,
                 error: str | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.error = error
        self.source = source


class InferenceError(WallarooAPIError):
    """The engine rejected an inference request.

    2023.2 message: ``"Inference failed: \\n\\t<error_type>: <error>"``;
    newest: ``"Inference failed: [<code>] <error> (source: engine, status: Error)"``.
    """


class InferenceTimeoutError(InferenceError):
    """Inference did not return within the timeout (newest SDK)."""
