"""In-process HTTP transport: one routing table, served to ``requests`` through ``responses``.

Adapters register routes (method + host + path pattern → handler). While an emulator is
active, every ``requests`` call to an emulated host is answered by its handler, in-process,
with no socket. A request to an emulated host that no route matches fails loudly with the
method and path (HTTP 404 with a message naming both). Requests to other hosts pass through
to ``requests`` untouched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """What a handler sees of an HTTP request."""

    method: str
    url: str
    host: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        for key, value in self.headers.items():
            if key.lower() == "content-type":
                return value
        return ""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        merged = {"Content-Type": "application/json; charset=UTF-8"}
        merged.update(headers or {})
        return cls(status, data, merged)

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status, b"", {})


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def normalise_host(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or (scheme == "https" and port == 443) or (scheme == "http" and port == 80):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class Router:
    """Routing table: hosts served by the emulator and the routes of each service on them."""

    def __init__(self) -> None:
        self._services: dict[str, list[Route]] = {}
        self._hosts: dict[str, str] = {}  # normalised host -> service name

    def add_route(self, service: str, method: str, path_regex: str, handler: Handler) -> None:
        self._services.setdefault(service, []).append(
            Route(method.upper(), re.compile(f"^{path_regex}$"), handler)
        )

    def serve_host(self, url: str, service: str) -> None:
        """Answer requests to ``url``'s host with ``service``'s routes."""
        self._hosts[normalise_host(url)] = service

    def hosts(self) -> dict[str, str]:
        return dict(self._hosts)

    def service_for(self, url: str) -> str | None:
        return self._hosts.get(normalise_host(url))

    def dispatch(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(url)
        service = self.service_for(url)
        if service is None:
            return _no_route(method, parts.path, "host not emulated")
        request = Request(
            method=method.upper(),
            url=url,
            host=normalise_host(url),
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=body,
        )
        allowed: list[str] = []
        for route in self._services.get(service, []):
            match = route.pattern.match(parts.path)
            if not match:
                continue
            if route.method != request.method:
                allowed.append(route.method)
                continue
            request.params = {k: v for k, v in match.groupdict().items() if v is not None}
            return route.handler(request)
        if allowed:
            return _no_route(method, parts.path, f"method not allowed (routes accept {', '.join(sorted(set(allowed)))})", 405)
        return _no_route(method, parts.path, f"no route in the {service} emulator")


def _no_route(method: str, path: str, why: str, status: int = 404) -> Response:
    message = f"wallaroo-emulator: {why}: {method.upper()} {path}"
    return Response.json(
        {"error": {"code": status, "message": message, "errors": [{"message": message, "domain": "global",
                                                                   "reason": "notFound"}],
                   "status": "NOT_FOUND" if status == 404 else "UNIMPLEMENTED"}},
        status,
    )


class RequestsInterception:
    """Serves a :class:`Router` to the ``requests`` library through ``responses``."""

    _METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

    def __init__(self, router: Router) -> None:
        self.router = router
        self._mock: Any = None
        self._hosts: tuple[str, ...] = ()

    def start(self) -> None:
        import responses

        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self._register()
        self._mock.start()

    def refresh(self) -> None:
        """Pick up hosts added to the router while active."""
        if self._mock is not None and tuple(sorted(self.router.hosts())) != self._hosts:
            self._mock.reset()
            self._register()

    def _register(self) -> None:
        self._hosts = tuple(sorted(self.router.hosts()))
        emulated = host_regex(self._hosts)
        for method in self._METHODS:
            self._mock.add_callback(method, emulated, callback=self._callback)
        self._mock.add_passthru(re.compile(f"^(?!{emulated.pattern[1:]})"))

    def stop(self) -> None:
        if self._mock is not None:
            mock, self._mock = self._mock, None
            mock.stop(allow_assert=False)
            mock.reset()

    def _callback(self, prepared: Any) -> tuple[int, dict[str, str], bytes]:
        body = prepared.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes | bytearray):
            body = b"".join(_chunks(body))
        headers = {str(k): (v.decode('latin-1') if isinstance(v, bytes) else str(v)) for k, v in prepared.headers.items()}
        response = self.router.dispatch(prepared.method, prepared.url, headers, bytes(body))
        return response.status, response.headers, response.body


def host_regex(hosts: Iterable[str]) -> re.Pattern[str]:
    """A regex matching URLs on any of ``hosts`` (normalised ``scheme://host[:port]``)."""
    alternatives = []
    for host in hosts:
        scheme, _, rest = host.partition("://")
        if ":" in rest:
            alternatives.append(re.escape(host))
        else:
            default = "443" if scheme == "https" else "80"
            alternatives.append(f"{re.escape(host)}(?::{default})?")
    if not alternatives:
        return re.compile(r"^(?!x)x")
    return re.compile(f"^(?i:{'|'.join(alternatives)})(?:[/?#]|$)")


def _chunks(body: Iterable[bytes] | Any) -> Iterable[bytes]:
    if hasattr(body, "read"):
        data = body.read()
        yield data.encode() if isinstance(data, str) else data
        return
    for chunk in body:
        yield chunk.encode() if isinstance(chunk, str) else chunk
