"""What every Wallaroo HTTP adapter shares: request bodies, the caller's identity, the one
mapping of backend errors to HTTP, multipart forms, timestamps.

The adapters (:mod:`emulator.wallaroo.rest` for the MLOps API, :mod:`emulator.wallaroo.engine_http`
for inference and inference logs, :mod:`emulator.wallaroo.keycloak` for auth, and
:mod:`emulator.wallaroo.graphql`) register their
routes on the emulator's :class:`emulator.transport.Router` under the service ``"wallaroo"``
through :func:`register_routes`. Handlers are wrapped by :func:`guarded`, which turns the
backend's error hierarchy (:mod:`emulator.wallaroo.errors`) into the platform's error bodies in
one place:

* MLOps API: ``{"msg": <message>, "code": <status>}`` with the error's status (400 bad request,
  404 not found, 409 already exists, 501 not emulated) — the shape every generated
  ``*Response4xx`` model of the SDK's OpenAPI client reads;
* an exception that is not the backend's (a bug of the emulator) answers 500 with the same
  shape and the exception's type and message — never a Python traceback.

Identity: the wire does not validate tokens (the real SDKs send test tokens that mean nothing
to a server, and tests must not depend on them). The caller is the ``sub``/``email`` of a
bearer JWT when the ``Authorization`` header holds one (what :mod:`emulator.wallaroo.keycloak`
mints, and what the facade's ``wl.auth.auth_header()`` sends), otherwise the emulator's default
user (``jane@ex.co``, as the SDKs' ``test_auth``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from emulator.transport import Request, Response
from emulator.wallaroo.errors import InvalidRequest, WallarooBackendError

#: The user behind requests whose token names nobody (the SDKs' ``test_auth`` identity).
DEFAULT_USER_EMAIL = "jane@ex.co"
DEFAULT_USER_ID = "99cace15-e0d4-4bb6-bf14-35efee181b90"

SERVICE = "wallaroo"


def error_body(message: str, status: int) -> Response:
    """The MLOps API's error answer (``axum-util`` shape): ``{"msg", "code"}``."""
    return Response.json({"msg": message, "code": status}, status)


def not_found(method: str, path: str, why: str, status: int = 404) -> Response:
    """A path no Wallaroo route matches, in the API's error shape (404, or 405 for another method)."""
    return error_body(f"wallaroo-emulator: {why}: {method.upper()} {path}", status)


def guarded(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Answer a handler's backend errors in the platform's shape (the one mapping, see module doc)."""

    @wraps(handler)
    def wrapper(request: Request) -> Response:
        try:
            return handler(request)
        except WallarooBackendError as exc:
            return error_body(_message(exc), int(getattr(exc, "status", 400)))
        except Exception as exc:  # noqa: BLE001 - an emulator bug must still answer in the API's shape
            return error_body(f"internal error in the emulator: {type(exc).__name__}: {exc}", 500)

    return wrapper


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc)


# -- request bodies ----------------------------------------------------------------------------


class Body:
    """A JSON request body with typed, named access; a missing or mistyped field is a 400 whose
    message names it, as the platform's JSON extractor does."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    def of(cls, request: Request, *, empty_ok: bool = True) -> Body:
        if not request.body.strip():
            if empty_ok:
                return cls({})
            raise InvalidRequest("Failed to parse the request body as JSON: EOF while parsing a value")
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidRequest(f"Failed to parse the request body as JSON: {exc}") from None
        if data is None and empty_ok:
            return cls({})
        if not isinstance(data, dict):
            raise InvalidRequest(
                f"Failed to deserialize the JSON body into the target type: invalid type: "
                f"{_json_kind(data)}, expected a JSON object")
        return cls(data)

    def get(self, name: str, kind: type | tuple[type, ...] | None = None, *, required: bool = False,
            default: Any = None) -> Any:
        if name not in self.data or self.data[name] is None:
            if required:
                raise InvalidRequest(
                    f"Failed to deserialize the JSON body into the target type: missing field `{name}`")
            return default
        value = self.data[name]
        if kind is not None and not _is_kind(value, kind):
            wanted = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise InvalidRequest(
                f"Failed to deserialize the JSON body into the target type: {name}: invalid type: "
                f"{_json_kind(value)}, expected {_json_name(wanted)}")
        return value

    def require(self, name: str, kind: type | tuple[type, ...] | None = None) -> Any:
        return self.get(name, kind, required=True)


def _is_kind(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False  # JSON true is not a number
    if float in kinds and isinstance(value, int):
        return True
    return isinstance(value, kinds)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int | float):
        return f"number `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if isinstance(value, list):
        return "sequence"
    return "map"


def _json_name(name: str) -> str:
    return {"int": "an integer", "str": "a string", "bool": "a boolean", "dict": "a map", "list": "a sequence",
            "float": "a number"}.get(name, name)


def uuid_text(value: Any, name: str) -> str:
    """A UUID field as text (400 naming the field when it is not a UUID)."""
    import uuid

    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise InvalidRequest(
            f"Failed to deserialize the JSON body into the target type: {name}: UUID parsing failed: "
            f"invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], "
            f"found {str(value)[:1]!r}") from None


# -- multipart/form-data ------------------------------------------------------------------------


def multipart(request: Request) -> dict[str, tuple[str | None, str, bytes]]:
    """The parts of a ``multipart/form-data`` body: ``name → (filename, content type, bytes)``.

    A direct split on the boundary (RFC 7578) rather than :mod:`email`'s parser, which reads
    line by line and costs ~60 ms for a 300 KB model file.
    """
    content_type = request.content_type
    boundary = None
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip().strip('"')
    if not content_type.lower().startswith("multipart/form-data") or not boundary:
        raise InvalidRequest("Invalid `boundary` for `multipart/form-data` request")
    body = request.body
    delimiter = b"--" + boundary.encode("latin-1")
    parts: dict[str, tuple[str | None, str, bytes]] = {}
    position = body.find(delimiter)
    if position < 0:
        raise InvalidRequest("multipart/form-data body holds no part")
    while True:
        position += len(delimiter)
        if body[position:position + 2] == b"--":
            break
        if body[position:position + 2] == b"\r\n":
            position += 2
        end = body.find(b"\r\n" + delimiter, position)
        if end < 0:
            raise InvalidRequest("multipart/form-data body is truncated (no closing boundary)")
        head_end = body.find(b"\r\n\r\n", position, end)
        if head_end < 0:
            raise InvalidRequest("multipart/form-data part has no header block")
        headers = _part_headers(body[position:head_end].decode("utf-8", errors="replace"))
        disposition = headers.get("content-disposition", "")
        params = _disposition_params(disposition)
        name = params.get("name")
        if name is not None:
            parts[name] = (params.get("filename"), headers.get("content-type", "text/plain"),
                           body[head_end + 4:end])
        position = end + 2
    return parts


def _part_headers(text: str) -> dict[str, str]:
    headers = {}
    for line in text.split("\r\n"):
        key, _, value = line.partition(":")
        if key:
            headers[key.strip().lower()] = value.strip()
    return headers


def _disposition_params(value: str) -> dict[str, str]:
    params = {}
    for item in value.split(";")[1:]:
        key, _, raw = item.strip().partition("=")
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"'):
            raw = raw[1:-1].replace('\\"', '"')
        params[key.strip().lower()] = raw
    return params


def json_part(parts: dict[str, tuple[str | None, str, bytes]], name: str) -> Body:
    """A JSON part of a multipart form (400 when missing or not a JSON object)."""
    if name not in parts:
        raise InvalidRequest(f"multipart/form-data: missing part `{name}`")
    try:
        data = json.loads(parts[name][2] or b"null")
    except ValueError as exc:
        raise InvalidRequest(f"multipart/form-data: part `{name}` is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidRequest(f"multipart/form-data: part `{name}` must be a JSON object")
    return Body(data)


# -- identity and formats ----------------------------------------------------------------------


def bearer_claims(request: Request) -> dict[str, Any]:
    """The payload of the request's bearer JWT (unverified), or ``{}`` when it holds none."""
    header = request.header("authorization")
    token = header[7:].strip() if header[:7].lower() == "bearer " else header.strip()
    pieces = token.split(".")
    if len(pieces) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(pieces[1] + "=" * (-len(pieces[1]) % 4))
        claims = json.loads(payload)
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def caller(request: Request, backend: Any) -> Any:
    """The backend user making the request (see the module docstring)."""
    claims = bearer_claims(request)
    email = claims.get("email")
    user_id = claims.get("sub")
    if isinstance(email, str) and email:
        return backend.user(email, user_id if isinstance(user_id, str) else None)
    return backend.user(DEFAULT_USER_EMAIL, DEFAULT_USER_ID)


def iso(instant: datetime | None) -> str | None:
    """A stored timestamp as the platform writes it (RFC 3339, ``+00:00``)."""
    return None if instant is None else instant.isoformat()


def register_routes(router: Any, emu: Any) -> None:
    """Every Wallaroo HTTP route (MLOps REST, inference and logs, Keycloak, GraphQL) on ``router``."""
    from emulator.wallaroo import engine_http, keycloak, rest
    from emulator.wallaroo.graphql import register_graphql

    rest.register(router, emu)
    router.set_not_found(SERVICE, not_found)
    engine_http.register(router, emu)
    keycloak.register(router, emu)
    register_graphql(router, emu)
