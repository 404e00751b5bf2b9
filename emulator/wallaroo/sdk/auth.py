"""``wallaroo.auth``: auth types and the auth objects a ``Client`` holds.

Nothing here prompts or reaches the network. Identities, by auth type:

* ``None`` / ``AuthType.NONE`` → ``_NoAuth`` (``default@ex.co``, no user id, no ``auth_header``);
* ``"test_auth"`` → ``_TestAuth`` (``jane@ex.co``, no ``auth_header``), as in the real SDK;
* ``"sso"``, ``"user_password"``, ``"token"``, ``"orch"`` → ``_PlatformAuth`` with a bearer token
  minted by the emulator's Keycloak (a JWT naming the user; ``token`` uses the credentials file's
  token as is); ``auth_header()`` → ``{"Authorization": "Bearer <token>"}``. The user
  is ``jane@ex.co`` unless ``WALLAROO_USER`` (user_password) or the ``WALLAROO_SDK_CREDENTIALS``
  file (token: ``{"token", "user_email", "user_id"}``) names another one.
* the string ``"none"`` raises ``NotImplementedError`` as in every real version.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

TEST_USER_EMAIL = "jane@ex.co"
TEST_USER_ID = "99cace15-e0d4-4bb6-bf14-35efee181b90"
NO_AUTH_EMAIL = "default@ex.co"


class AuthType(Enum):
    NONE = "none"
    SSO = "sso"
    USER_PASSWORD = "user_password"
    TEST_AUTH = "test_auth"
    TOKEN = "token"
    ORCH = "orch"


@dataclass
class _Token:
    token: str = field(repr=False)  # never printed


class _NoAuth:
    user_email = NO_AUTH_EMAIL
    user_id: str | None = None

    def __call__(self, request: Any) -> Any:
        return request

    def _bearer_token_str(self) -> str:
        return ""


class _TestAuth:
    user_email = TEST_USER_EMAIL
    user_id: str | None = TEST_USER_ID

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = self._bearer_token_str()
        return request

    def _bearer_token_str(self) -> str:
        return "definitely_a_bearer_token_str"


class _PlatformAuth:
    """Keycloak-style auth without Keycloak: a fixed bearer token for one user."""

    def __init__(self, auth_type: AuthType, token: str, user_email: str, user_id: str | None) -> None:
        self.auth_type = auth_type
        self._token = token
        self.user_email = user_email
        self.user_id = user_id

    def _access_token(self) -> _Token:
        return _Token(self._token)

    def _bearer_token_str(self) -> str:
        return f"Bearer {self._token}"

    def auth_header(self) -> dict[str, str]:
        return {"Authorization": self._bearer_token_str()}

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = self._bearer_token_str()
        return request

    def __repr__(self) -> str:
        return f"<_PlatformAuth {self.auth_type.value} user={self.user_email}>"


def _credentials_file() -> dict[str, Any]:
    path = os.environ.get("WALLAROO_SDK_CREDENTIALS")
    if not path or not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _keycloak_token(email: str, user_id: str | None) -> str | None:
    """An access token of the active emulator's Keycloak for this user (a JWT with ``sub`` and
    ``email``, so raw requests with ``auth_header()`` reach the wire as this user)."""
    from emulator.emulator import active_emulator

    emu = active_emulator()
    if emu is None or getattr(emu, "wallaroo", None) is None:
        return None
    from emulator.wallaroo.installed import LOGIN_SECONDS
    from emulator.wallaroo.keycloak import realm_for

    realm = realm_for(emu)
    return realm.mint(realm.identity(email, user_id), "Bearer", LOGIN_SECONDS)[0]


def create(keycloak_addr: str, auth_type: AuthType | str | None, token_seed: str = "") -> Any:
    """The auth object for ``auth_type`` (same decision order as the real ``auth.create``)."""
    if isinstance(auth_type, str):
        auth_type = AuthType(auth_type.lower())
    elif os.getenv("WALLAROO_SDK_CREDENTIALS") or os.getenv("WALLAROO_USER"):
        auth_type = AuthType.USER_PASSWORD
    elif auth_type is None or auth_type == AuthType.NONE:
        return _NoAuth()
    if auth_type == AuthType.TEST_AUTH:
        return _TestAuth()
    if auth_type in (AuthType.SSO, AuthType.USER_PASSWORD, AuthType.TOKEN, AuthType.ORCH):
        email, user_id, token = TEST_USER_EMAIL, TEST_USER_ID, f"emulated-{token_seed or 'token'}"
        if auth_type == AuthType.TOKEN:
            creds = _credentials_file()
            token = str(creds.get("token") or token)
            email = str(creds.get("user_email") or email)
            user_id = str(creds.get("user_id") or user_id)
        elif auth_type == AuthType.USER_PASSWORD:
            user = os.environ.get("WALLAROO_USER") or str(_credentials_file().get("username") or "")
            if "@" in user:
                email = user
        if auth_type != AuthType.TOKEN:
            token = _keycloak_token(email, user_id) or token
        return _PlatformAuth(auth_type, token, email, user_id)
    raise NotImplementedError(f"Unsupported auth type: {auth_type}")
