"""In-process HTTP transport: one routing table, served to ``requests``, ``httpx`` and ``urllib``.

Adapters register routes (method + path pattern → handler) per service. The :class:`Router`
decides what happens to every URL (:meth:`Router.decide`):

* **served**: a host the emulator serves (``serve_host``), a URL under a ``static_urls`` prefix
  (``serve_static``), or a path a service claims on any other non-Google, non-loopback host
  (``serve_paths``: the Wallaroo API is reached at whatever ``api_endpoint`` a user gives) —
  answered in-process by the handler, with no socket. A path no route matches fails loudly with
  the method and path (HTTP 404, or 405 naming the accepted methods);
* **passed through**: loopback hosts and hosts the user allowed (``allow_hosts`` / seed
  ``network.allow``, see :mod:`emulator.network`); an allowed host is never claimed by a path rule;
* **refused**: everything else, at once, with :class:`emulator.network.NetworkAccessRefused`
  naming the method, URL and how to allow it (wrapped in the client library's own connection
  error: ``requests.ConnectionError``, ``httpx.ConnectError``, ``urllib.error.URLError``).

While an emulator is active the router is served to ``requests`` through ``responses``, to
``httpx`` (sync and async clients) through ``respx``, and to ``urllib.request.urlopen`` (what
pandas uses for ``read_csv(url)``) through an installed opener. A user's own ``responses``/``respx``
mocks keep working beside ours: for hosts we neither serve nor allow, a user's ``respx`` router
is given its turn before the request is refused.
"""

from __future__ import annotations

import contextvars
import email.message
import io
import json
import mimetypes
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from emulator.network import NetworkAccessRefused, NetworkPolicy, is_loopback_host, refusal_message


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

    def header(self, name: str, default: str = "") -> str:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return default

    @property
    def content_type(self) -> str:
        return self.header("content-type")


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

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


@dataclass(frozen=True)
class Decision:
    """What the router does with a URL: ``serve`` (by ``service``), ``pass`` or ``refuse``."""

    kind: str
    service: str | None = None


PASS = Decision("pass")
#: Service name of a served host's paths that no service claims (answered 404).
UNKNOWN = "unknown"
REFUSE = Decision("refuse")
STATIC = "static"

#: Hosts under these domains are Google's: never claimed by another service's path rules.
GOOGLE_DOMAINS = ("googleapis.com", "google.com", "google.internal", "googleusercontent.com", "gstatic.com")


def is_google_host(host: str) -> bool:
    name = host.lower().rstrip(".")
    return any(name == d or name.endswith("." + d) for d in GOOGLE_DOMAINS)


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
    """Routing table: the services' routes, the hosts and paths each serves, the static URLs, and
    the network policy that decides every other URL."""

    def __init__(self, policy: NetworkPolicy | None = None) -> None:
        self._services: dict[str, list[Route]] = {}
        self._hosts: dict[str, str] = {}  # normalised host -> service name
        self._path_rules: list[tuple[re.Pattern[str], str]] = []
        self._host_patterns: list[tuple[re.Pattern[str], str]] = []
        self._static: list[tuple[str, Path]] = []  # (normalised URL prefix, local file or folder)
        self._path_hosts: dict[str, Callable[[str], str | None]] = {}  # normalised host -> path chooser
        self._not_found: dict[str, Callable[[str, str, str, int], Response]] = {}
        self.policy = policy if policy is not None else NetworkPolicy()
        self._lock = threading.Lock()

    # -- what is served ----------------------------------------------------------------------
    def add_route(self, service: str, method: str, path_regex: str, handler: Handler) -> None:
        self._services.setdefault(service, []).append(
            Route(method.upper(), re.compile(f"^{path_regex}$"), handler)
        )

    def serve_host(self, url: str, service: str) -> None:
        """Answer requests to ``url``'s host with ``service``'s routes."""
        self._hosts[normalise_host(url)] = service

    def serve_host_pattern(self, host_regex: str, service: str) -> None:
        """Answer requests to every host whose normalised ``scheme://host[:port]`` fully matches
        ``host_regex`` with ``service``'s routes (e.g. the Wallaroo engines' in-cluster hosts)."""
        self._host_patterns.append((re.compile(host_regex, re.IGNORECASE), service))

    def serve_host_by_path(self, url: str, choose: Callable[[str], str | None]) -> None:
        """Answer requests to ``url``'s host with the service ``choose(path)`` names (the 127.0.0.1
        server's own address serves every service, told apart by path); ``None`` is a 404."""
        self._path_hosts[normalise_host(url)] = choose

    def forget_host(self, url: str) -> None:
        """Stop serving ``url``'s host (added by :meth:`serve_host` or :meth:`serve_host_by_path`)."""
        base = normalise_host(url)
        self._hosts.pop(base, None)
        self._path_hosts.pop(base, None)

    def set_not_found(self, service: str, render: Callable[[str, str, str, int], Response]) -> None:
        """How ``service`` answers a path no route matches: ``render(method, path, why, status)``
        (404, or 405 naming the accepted methods) in the service's own error shape."""
        self._not_found[service] = render

    def serve_paths(self, service: str, path_regex: str) -> None:
        """Answer paths matching ``path_regex`` with ``service``'s routes on every host that is not
        otherwise served, not a Google host and not loopback (where a real server may listen)."""
        self._path_rules.append((re.compile(f"^(?:{path_regex})"), service))

    def serve_static(self, url: str, local: str | Path) -> None:
        """Serve ``url`` from a local file, or every URL under it from a local folder (GET/HEAD)."""
        target = Path(local)
        if not target.exists():
            raise FileNotFoundError(f"static_urls: {url!r} maps to {str(target)!r}, which does not exist")
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError(f"static_urls: {url!r} is not an http(s) URL")
        prefix = normalise_host(url) + (parts.path or "/")
        with self._lock:
            self._static = [entry for entry in self._static if entry[0] != prefix]
            self._static.append((prefix, target.resolve()))
            self._static.sort(key=lambda entry: -len(entry[0]))

    def hosts(self) -> dict[str, str]:
        return dict(self._hosts)

    def service_for(self, url: str) -> str | None:
        return self._hosts.get(normalise_host(url))

    # -- deciding --------------------------------------------------------------------------
    def decide(self, url: str) -> Decision:
        """What happens to a request for ``url`` (see the module docstring)."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            base = normalise_host(url)
        except ValueError:
            return REFUSE
        if self._static and self._static_target(base + (parts.path or "/"))[0]:
            return Decision("serve", STATIC)
        service = self._hosts.get(base)
        if service is not None:
            return Decision("serve", service)
        choose = self._path_hosts.get(base)
        if choose is not None:
            return Decision("serve", choose(parts.path or "/") or UNKNOWN)
        for pattern, matched in self._host_patterns:
            if pattern.fullmatch(base):
                return Decision("serve", matched)
        if is_loopback_host(host) or self.policy.allows_url(url):
            return PASS
        if not is_google_host(host):
            for pattern, claimed in self._path_rules:
                if pattern.match(parts.path or "/"):
                    return Decision("serve", claimed)
        return REFUSE

    def refusal(self, method: str | None, url: str) -> NetworkAccessRefused:
        host = (urlsplit(url).hostname or "") if "://" in url else url
        return NetworkAccessRefused(refusal_message(method, url, host))

    # -- answering -------------------------------------------------------------------------
    def dispatch(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer a request the router serves (see :meth:`decide`)."""
        decision = self.decide(url)
        parts = urlsplit(url)
        if decision.kind != "serve" or decision.service is None:
            return _no_route(method, parts.path, "host not emulated")
        if decision.service == STATIC:
            return self._serve_static(method, normalise_host(url) + (parts.path or "/"))
        return self.dispatch_to(decision.service, method, url, headers, body)

    def dispatch_to(self, service: str, method: str, url: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer a request with ``service``'s routes, whatever its host (the server's dispatch)."""
        parts = urlsplit(url)
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
        render = self._not_found.get(service, _no_route)
        if allowed:
            return render(method, parts.path, f"method not allowed (routes accept {', '.join(sorted(set(allowed)))})", 405)
        return render(method, parts.path, f"no route in the {service} emulator", 404)

    def _static_target(self, location: str) -> tuple[bool, Path | None]:
        """Whether a static prefix covers ``location``, and the local file it maps to.

        A location under a folder prefix that escapes the folder is covered but maps to no file,
        so it is answered 404 like any missing file.
        """
        for prefix, local in self._static:
            if local.is_file():
                if location == prefix:
                    return True, local
                continue
            folder_prefix = prefix if prefix.endswith("/") else prefix + "/"
            if location == prefix or location.startswith(folder_prefix):
                relative = unquote(location[len(folder_prefix):]) if location != prefix else ""
                candidate = (local / relative).resolve()
                inside = candidate == local or local in candidate.parents
                return True, candidate if inside else None
        return False, None

    def _serve_static(self, method: str, location: str) -> Response:
        if method.upper() not in ("GET", "HEAD"):
            return Response(405, b"Method Not Allowed\n", {"Content-Type": "text/plain", "Allow": "GET, HEAD"})
        target = self._static_target(location)[1]
        if target is None or not target.is_file():
            return Response(404, b"Not Found\n", {"Content-Type": "text/plain"})
        data = target.read_bytes()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        headers = {"Content-Type": kind, "Content-Length": str(len(data))}
        return Response(200, b"" if method.upper() == "HEAD" else data, headers)


def _no_route(method: str, path: str, why: str, status: int = 404) -> Response:
    message = f"wallaroo-emulator: {why}: {method.upper()} {path}"
    return Response.json(
        {"error": {"code": status, "message": message, "errors": [{"message": message, "domain": "global",
                                                                   "reason": "notFound"}],
                   "status": "NOT_FOUND" if status == 404 else "UNIMPLEMENTED"}},
        status,
    )


def _as_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body)


_IN_PROCESS: contextvars.ContextVar[bool] = contextvars.ContextVar("wallaroo_emulator_in_process", default=False)


def serving_in_process() -> bool:
    """Whether the request being handled comes from code in this process, through one of the
    interceptions below (not from another process through a 127.0.0.1 server): such a client
    shares the emulator's other in-process stand-ins (the BigQuery Storage Read API)."""
    return _IN_PROCESS.get()


def _dispatch_in_process(router: Router, method: str, url: str, headers: dict[str, str], body: bytes) -> Response:
    token = _IN_PROCESS.set(True)
    try:
        return router.dispatch(method, url, headers, body)
    finally:
        _IN_PROCESS.reset(token)


class _WhenImported:
    """Starts an interception when its HTTP library is loaded: at :meth:`start` if it is imported
    already, else through an import hook as soon as it finishes loading (so entering an emulator
    never imports a library the code does not use). Subclasses name ``_LIBRARY`` and define
    ``_start_now``."""

    _LIBRARY = ""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._mock: Any = None
        self._hook: _AfterImport | None = None

    def start(self) -> None:
        import sys

        if self._LIBRARY not in sys.modules:
            self._hook = _AfterImport(self._LIBRARY, self._start_now)
            sys.meta_path.insert(0, self._hook)
            return
        self._start_now()

    def _start_now(self) -> None:
        raise NotImplementedError

    def _remove_hook(self) -> None:
        import sys

        if self._hook is not None:
            hook, self._hook = self._hook, None
            try:
                sys.meta_path.remove(hook)
            except ValueError:
                pass


class RequestsInterception(_WhenImported):
    """Serves a :class:`Router` to the ``requests`` library through ``responses``.

    When ``requests`` is not imported yet at :meth:`start` (a server process, code that only
    uses httpx), nothing is imported: an import hook starts the interception as soon as
    ``requests`` finishes loading (importing ``responses`` and ``requests`` costs ~0.4 s).
    """

    _LIBRARY = "requests"
    _METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

    def _start_now(self) -> None:
        self._remove_hook()
        import responses

        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        everything = re.compile(r".*")
        for method in self._METHODS:
            self._mock.add_callback(method, everything, callback=self._callback, match=[self._not_passed])
            # Only a URL the router passes (loopback, allowed hosts) reaches the real network, decided
            # again here: no blanket pass-through, so a request nothing matches is refused by responses
            # (ConnectionError) instead of going out — offline by guarantee.
            self._mock.add(responses.PassthroughResponse(method, everything, match=[self._passed]))
        self._mock.start()

    def stop(self) -> None:
        self._remove_hook()
        if self._mock is not None:
            mock, self._mock = self._mock, None
            mock.stop(allow_assert=False)
            mock.reset()

    def _not_passed(self, prepared: Any) -> tuple[bool, str]:
        if self.router.decide(prepared.url).kind == "pass":
            return False, "passed through to the network (loopback or allowed host)"
        return True, ""

    def _passed(self, prepared: Any) -> tuple[bool, str]:
        if self.router.decide(prepared.url).kind == "pass":
            return True, ""
        return False, "not a loopback or allowed host: refused (offline by guarantee)"

    def _callback(self, prepared: Any) -> tuple[int, dict[str, str], bytes]:
        import requests

        if self._mock is not None:
            self._mock.calls.reset()  # keep no history: long sessions would hold every body
        if self.router.decide(prepared.url).kind == "refuse":
            raise requests.exceptions.ConnectionError(
                self.router.refusal(prepared.method, prepared.url), request=prepared
            )
        headers = {str(k): (v.decode("latin-1") if isinstance(v, bytes) else str(v)) for k, v in prepared.headers.items()}
        response = _dispatch_in_process(self.router, prepared.method, prepared.url, headers, _as_bytes(prepared.body))
        return response.status, response.headers, response.body


class HttpxInterception(_WhenImported):
    """Serves a :class:`Router` to ``httpx`` (sync and async clients) through ``respx``.

    When ``httpx`` is not imported yet at :meth:`start` (code that only uses ``requests``, like
    google-cloud-bigquery), nothing is imported: an import hook starts the interception as soon
    as ``httpx`` finishes loading (importing ``respx`` and ``httpx`` costs ~70 ms otherwise).
    """

    _LIBRARY = "httpx"

    def _start_now(self) -> None:
        self._remove_hook()
        import respx

        self._mock = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        self._mock.route().mock(side_effect=self._side_effect)
        self._mock.start()

    def stop(self) -> None:
        self._remove_hook()
        if self._mock is not None:
            mock, self._mock = self._mock, None
            mock.stop(quiet=True)

    def _side_effect(self, request: Any) -> Any:
        import httpx

        mock = self._mock
        if mock is not None:
            mock.calls.clear()  # keep no history (see RequestsInterception)
            for route in mock.routes:
                route.calls.clear()
        url = str(request.url)
        decision = self.router.decide(url)
        if decision.kind == "pass":
            return request  # respx: pass through to the real transport
        if decision.kind == "refuse":
            if mock is not None and mock.Mocker is not None and len(mock.Mocker.routers) > 1:
                return None  # a user's own respx router gets its turn
            raise httpx.ConnectError(str(self.router.refusal(request.method, url)), request=request)
        response = _dispatch_in_process(self.router, request.method, url, dict(request.headers), request.content)
        return httpx.Response(response.status, headers=response.headers, content=response.body, request=request)


class UrllibInterception:
    """Serves a :class:`Router` to ``urllib.request.urlopen`` (pandas' ``read_csv(url)``, ...)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._saved: Any = None
        self._installed = False

    def start(self) -> None:
        import urllib.request

        self._saved = urllib.request._opener
        urllib.request.install_opener(urllib.request.build_opener(_RouterHandler(self.router)))
        self._installed = True

    def stop(self) -> None:
        import urllib.request

        if self._installed:
            urllib.request.install_opener(self._saved)
            self._saved, self._installed = None, False


def _router_open(handler: _RouterHandler, req: Any) -> Any:
    import urllib.error
    import urllib.response

    url = req.full_url
    router = handler.router
    decision = router.decide(url)
    if decision.kind == "pass":
        return None  # the next handler (urllib's own) opens it
    if decision.kind == "refuse":
        raise urllib.error.URLError(router.refusal(req.get_method(), url))
    headers = dict(req.header_items())
    response = _dispatch_in_process(router, req.get_method(), url, headers, _as_bytes(req.data))
    message = email.message.Message()
    for key, value in response.headers.items():
        message[key] = value
    result = urllib.response.addinfourl(io.BytesIO(response.body), message, url, response.status)
    result.msg = response.reason  # read by urllib's HTTPErrorProcessor
    return result


class _RouterHandler:
    handler_order = 50  # before urllib's proxy and HTTP handlers

    def __init__(self, router: Router) -> None:
        self.router = router
        self.parent: Any = None

    def add_parent(self, parent: Any) -> None:
        self.parent = parent

    def close(self) -> None:
        pass

    def __lt__(self, other: Any) -> bool:
        return self.handler_order < getattr(other, "handler_order", 500)

    def http_open(self, req: Any) -> Any:
        return _router_open(self, req)

    def https_open(self, req: Any) -> Any:
        return _router_open(self, req)


class _AfterImport:
    """A ``sys.meta_path`` finder that calls ``then()`` right after module ``name`` is first executed."""

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self.name = name
        self.then = then

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _ThenLoader(spec.loader, self.then)
        return spec


class _ThenLoader:
    def __init__(self, loader: Any, then: Callable[[], None]) -> None:
        self.loader = loader
        self.then = then

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        self.then()

    def __getattr__(self, name: str) -> Any:  # get_code, get_source, is_package... for tools
        return getattr(self.loader, name)


def interceptions(router: Router) -> list[Any]:
    """Every in-process interception of ``router``: requests, httpx, urllib."""
    return [RequestsInterception(router), HttpxInterception(router), UrllibInterception(router)]
