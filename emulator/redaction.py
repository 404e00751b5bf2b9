"""Masking secrets in what objects print: keys and tokens never reach a repr, a log or a failed assert.

Records that hold credentials (a Wallaroo connection's service-account key, a client's bearer
token) keep them intact as data; only their text form masks them, as the real SDK's HTML view
shows a connection's details as ``*****``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MASK = "*****"

#: Keys whose values are secrets wherever they appear (lower-cased comparison).
SECRET_KEYS = frozenset({
    "private_key", "private_key_id", "client_secret", "refresh_token", "access_token", "id_token",
    "token", "password", "secret", "api_key", "apikey",
})


def _secret_text(value: Any) -> bool:
    return isinstance(value, str) and ("PRIVATE KEY" in value or value.startswith(("ya29.", "Bearer ")))


def redacted(value: Any) -> Any:
    """``value`` with secret entries of any nested mapping (and secret-looking strings) masked."""
    if isinstance(value, Mapping):
        return {k: MASK if str(k).lower() in SECRET_KEYS else redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redacted(v) for v in value)
    return MASK if _secret_text(value) else value
