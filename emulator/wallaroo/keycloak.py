"""Keycloak, as the Wallaroo SDKs reach it on the API host: tokens for the emulated user.

Endpoints (realm ``master``; form-encoded bodies, Keycloak's JSON answers and error shape
``{"error", "error_description"}``):

* ``POST /auth/realms/master/protocol/openid-connect/auth/device`` — device authorization:
  ``{device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval}``.
  The emulated user approves at once, so the SDK's first token poll succeeds (no waiting).
* ``POST /auth/realms/master/protocol/openid-connect/token`` — grants
  ``urn:ietf:params:oauth:grant-type:device_code``, ``refresh_token`` and ``password``:
  ``{access_token, expires_in, refresh_expires_in, refresh_token, token_type, ...}``; an unknown
  device code or refresh token is ``400 invalid_grant``, another grant ``400 unsupported_grant_type``.
* ``GET /auth/admin/realms/master/users/{id}`` (and ``?email=``) — the Keycloak user the SDK's
  workspace tables show.

Tokens are JWTs (HS256 with a key derived from the emulator's seed) whose payload carries ``sub``
(the user id) and ``email``, which is all the SDKs read (decoded without checking the
signature). ``iat``/``exp`` come from the virtual clock, ``jti`` from the emulator's id streams, so
tokens are deterministic per seed and virtual time. Lifetimes are Keycloak's defaults: access
tokens 300 s, refresh tokens 1800 s (the SDK refreshes through ``refresh_token`` when they lapse).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from emulator.transport import Request, Response
from emulator.wallaroo.wire import DEFAULT_USER_EMAIL, DEFAULT_USER_ID, SERVICE, bearer_claims

REALM = "master"
CLIENT_ID = "sdk-client"
ACCESS_SECONDS = 300
REFRESH_SECONDS = 1800
DEVICE_SECONDS = 600
DEVICE_INTERVAL = 5


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Identity:
    user_id: str
    email: str
    username: str
    created_ms: int


@dataclass
class Realm:
    """The realm's users, pending device codes and signing key (one per emulator)."""

    clock: Any
    ids: Any
    key: bytes
    users: dict[str, Identity] = field(default_factory=dict)
    device_codes: dict[str, str] = field(default_factory=dict)  # device code -> user id

    def identity(self, email: str = DEFAULT_USER_EMAIL, user_id: str | None = None) -> Identity:
        for found in self.users.values():
            if found.email == email:
                return found
        uid = user_id or (DEFAULT_USER_ID if email == DEFAULT_USER_EMAIL else self.ids.uuid4("keycloak-user"))
        created = Identity(uid, email, email.split("@")[0] if "@" in email else email, self.clock.epoch_ms())
        self.users[uid] = created
        return created

    def mint(self, identity: Identity, kind: str = "Bearer", seconds: int = ACCESS_SECONDS,
             issuer: str = "") -> tuple[str, int]:
        """A signed JWT for ``identity`` (``kind`` ``Bearer``, ``Refresh`` or ``Offline``) and its expiry (epoch s)."""
        now = int(self.clock.epoch_ms() // 1000)
        expires = now + seconds
        payload = {
            "exp": expires, "iat": now, "jti": self.ids.uuid4("keycloak-token"),
            "iss": f"{issuer.rstrip('/')}/auth/realms/{REALM}", "sub": identity.user_id, "typ": kind,
            "azp": CLIENT_ID, "scope": "openid email profile", "email_verified": True,
            "preferred_username": identity.username, "email": identity.email,
        }
        header = {"alg": "HS256", "typ": "JWT"}
        signing = _b64(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64(
            json.dumps(payload, separators=(",", ":")).encode())
        signature = hmac.new(self.key, signing.encode("ascii"), hashlib.sha256).digest()
        return signing + "." + _b64(signature), expires

    def verify(self, token: str) -> dict[str, Any] | None:
        """The payload of a token this realm signed and that has not expired (virtual time), else None."""
        pieces = token.split(".")
        if len(pieces) != 3:
            return None
        expected = _b64(hmac.new(self.key, f"{pieces[0]}.{pieces[1]}".encode("ascii"), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, pieces[2]):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(pieces[1] + "=" * (-len(pieces[1]) % 4)))
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.get("exp", 0) <= self.clock.epoch_ms() / 1000:
            return None
        return payload

    def token_set(self, identity: Identity, issuer: str = "") -> dict[str, Any]:
        access, _ = self.mint(identity, "Bearer", ACCESS_SECONDS, issuer)
        refresh, _ = self.mint(identity, "Refresh", REFRESH_SECONDS, issuer)
        return {"access_token": access, "expires_in": ACCESS_SECONDS, "refresh_expires_in": REFRESH_SECONDS,
                "refresh_token": refresh, "token_type": "Bearer", "not-before-policy": 0,
                "session_state": self.ids.uuid4("keycloak-session"), "scope": "openid email profile"}

    def token_cache(self, identity: Identity, seconds: int, issuer: str = "") -> dict[str, Any]:
        """A logged-in SDK's token cache (``keycloak.json``): ``access_token``, ``expiry`` (epoch s),
        ``refresh_token``, ``refresh_token_expiry``, ``user_id``, ``user_email``."""
        access, expires = self.mint(identity, "Bearer", seconds, issuer)
        refresh, refresh_expires = self.mint(identity, "Offline", seconds, issuer)
        return {"access_token": access, "expiry": expires, "refresh_token": refresh,
                "refresh_token_expiry": refresh_expires, "user_id": identity.user_id, "user_email": identity.email}


def realm_for(emu: Any) -> Realm:
    """The emulator's realm (created on first use, kept on the platform backend)."""
    backend = emu.wallaroo
    realm = getattr(backend, "keycloak", None)
    if realm is None:
        key = hashlib.sha256(f"wallaroo-emulator keycloak {emu.seed}".encode()).digest()
        realm = Realm(emu.clock, emu.ids, key)
        backend.keycloak = realm
    return realm


def _form(request: Request) -> dict[str, str]:
    try:
        parsed = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        parsed = {}
    return {k: v[-1] for k, v in parsed.items()}


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response.json({"error": error, "error_description": description}, status)


class KeycloakApi:
    def __init__(self, emu: Any) -> None:
        self.emu = emu

    @property
    def realm(self) -> Realm:
        return realm_for(self.emu)

    def device(self, request: Request) -> Response:
        form = _form(request)
        if not form.get("client_id"):
            return _oauth_error("invalid_client", "Invalid client or Invalid client credentials", 401)
        identity = self.realm.identity()
        code = self.emu.ids.hex(16, "keycloak-device")
        self.realm.device_codes[code] = identity.user_id
        user_code = code[:4].upper() + "-" + code[4:8].upper()
        verify = f"{request.host}/auth/realms/{REALM}/device"
        return Response.json({"device_code": code, "user_code": user_code, "verification_uri": verify,
                              "verification_uri_complete": f"{verify}?user_code={user_code}",
                              "expires_in": DEVICE_SECONDS, "interval": DEVICE_INTERVAL})

    def token(self, request: Request) -> Response:
        form = _form(request)
        grant = form.get("grant_type", "")
        realm = self.realm
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            user_id = realm.device_codes.pop(form.get("device_code", ""), None)
            if user_id is None:
                return _oauth_error("invalid_grant", "Device code not valid")
            return Response.json(realm.token_set(realm.users[user_id], request.host))
        if grant == "refresh_token":
            payload = realm.verify(form.get("refresh_token", ""))
            if payload is None or payload.get("typ") not in ("Refresh", "Offline"):
                return _oauth_error("invalid_grant", "Invalid refresh token")
            identity = realm.users.get(str(payload.get("sub"))) or realm.identity(str(payload.get("email")))
            return Response.json(realm.token_set(identity, request.host))
        if grant == "password":
            username = form.get("username", "")
            if not username or not form.get("password"):
                return _oauth_error("invalid_grant", "Invalid user credentials", 401)
            email = username if "@" in username else f"{username}@ex.co"
            return Response.json(realm.token_set(realm.identity(email), request.host))
        return _oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant!r}")

    def user_item(self, identity: Identity) -> dict[str, Any]:
        return {"id": identity.user_id, "createdTimestamp": identity.created_ms, "username": identity.username,
                "enabled": True, "emailVerified": True, "email": identity.email, "firstName": "",
                "lastName": "", "requiredActions": [], "notBefore": 0}

    def admin_user(self, request: Request) -> Response:
        user_id = request.params["user_id"]
        realm = self.realm
        identity = realm.users.get(user_id)
        if identity is None:
            for user in self.emu.wallaroo.users.values():  # platform users the realm has not seen yet
                if user.id == user_id:
                    identity = realm.identity(user.email, user.id)
        if identity is None:
            return Response.json({"error": "User not found"}, 404)
        return Response.json(self.user_item(identity))

    def admin_users(self, request: Request) -> Response:
        """``GET .../users?email=``: the realm's users (every platform user is one), optionally by email."""
        email = request.arg("email")
        realm = self.realm
        for user in list(self.emu.wallaroo.users.values()):
            realm.identity(user.email, user.id)
        found = [self.user_item(i) for i in realm.users.values() if email is None or i.email == email]
        return Response.json(found)


def register(router: Any, emu: Any) -> KeycloakApi:
    api = KeycloakApi(emu)
    base = f"/auth/realms/{REALM}/protocol/openid-connect"
    router.add_route(SERVICE, "POST", base + "/auth/device", api.device)
    router.add_route(SERVICE, "POST", base + "/token", api.token)
    router.add_route(SERVICE, "GET", f"/auth/admin/realms/{REALM}/users/(?P<user_id>[^/]+)", api.admin_user)
    router.add_route(SERVICE, "GET", f"/auth/admin/realms/{REALM}/users", api.admin_users)
    return api


def caller_identity(request: Request, emu: Any) -> Identity:
    """The realm identity behind a request's bearer token (the default user when none)."""
    claims = bearer_claims(request)
    email = claims.get("email")
    return realm_for(emu).identity(email if isinstance(email, str) and email else DEFAULT_USER_EMAIL,
                                   claims.get("sub") if isinstance(claims.get("sub"), str) else None)


