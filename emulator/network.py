"""Offline by guarantee: which hosts code under an emulator may reach, and the socket guard.

While an emulator is active, traffic to a host the emulator does not serve is refused at once
with :class:`NetworkAccessRefused`, naming the method, URL (or address) and how to allow it:

* HTTP through ``requests``, ``httpx`` and ``urllib`` is decided by the router
  (:mod:`emulator.transport`): emulated hosts are answered in-process, allowed hosts pass
  through, everything else is refused before any socket is opened.
* Any other Python code that opens a socket (``http.client``, ``asyncio``, ``smtplib``, a
  database driver written in Python...) meets the socket guard: resolving a name that is not
  allowed, or connecting to an address that is neither loopback nor one an allowed name
  resolved to, raises :class:`NetworkAccessRefused` (a ``ConnectionRefusedError``, so code that
  handles connection failures handles it).

Always allowed: loopback (``127.0.0.0/8``, ``::1``, ``localhost`` and ``*.localhost``) — it never
leaves the machine, and the emulator's own server and task-run processes live there — and Unix
sockets. Opt-ins: ``Emulator(allow_hosts=[...])`` or a seed's ``network: {allow: [...]}``;
a pattern is a host name (``example.com``), a wildcard (``*.example.com``: its subdomains, not
``example.com`` itself), an IP address, or any of these with a port (``example.com:8443``) or as a URL
(``https://example.com``, whose port is its scheme's default).

Limits, recorded here: sockets opened by C code (gRPC's core, DuckDB's own HTTP client) do not go
through Python's ``socket`` module; the emulator keeps those offline by other means (the Storage
Read API is answered by an in-process transport; DuckDB is configured never to load extensions or
read outside its database).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

HOW_TO_ALLOW = (
    "allow it with Emulator(allow_hosts=[{host!r}]) or the seed's network: {{allow: [{host}]}}, "
    "or serve the content offline with the seed's static_urls"
)


class NetworkAccessRefused(ConnectionRefusedError):
    """Raised for traffic to a host the active emulator neither serves nor allows."""


def refusal_message(method: str | None, target: str, host: str) -> str:
    what = f"{method.upper()} {target}" if method else target
    return (
        f"wallaroo-emulator is offline: {what} was refused because {host or 'that host'} is not "
        f"emulated; {HOW_TO_ALLOW.format(host=host or target)}"
    )


def is_loopback_host(host: str) -> bool:
    """``localhost``, ``*.localhost`` and loopback IP literals."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostPattern:
    """One ``allow_hosts`` entry: a host name, ``*.domain`` wildcard or IP, with an optional port."""

    host: str
    port: int | None = None
    wildcard: bool = False

    @classmethod
    def parse(cls, text: str) -> HostPattern:
        raw = str(text).strip()
        if not raw:
            raise ValueError("an allowed host pattern cannot be empty")
        if "://" in raw:
            parts = urlsplit(raw)
            default = {"https": 443, "http": 80}.get(parts.scheme.lower())
            host, port = parts.hostname or "", parts.port or default
        else:
            parts = urlsplit(f"//{raw}")
            try:
                host, port = parts.hostname or "", parts.port
            except ValueError as exc:
                raise ValueError(f"invalid allowed host pattern {text!r}: {exc}") from None
            if parts.path or parts.query or parts.fragment:
                raise ValueError(f"invalid allowed host pattern {text!r}: name a host, not a path (or give a URL)")
        host = host.lower().rstrip(".")
        wildcard = host.startswith("*.")
        if wildcard:
            host = host[2:]
        if not host or "*" in host or "/" in host:
            raise ValueError(f"invalid allowed host pattern {text!r}: use a host name, '*.domain' or an IP address")
        return cls(host, port, wildcard)

    def matches(self, host: str, port: int | None = None) -> bool:
        name = host.strip("[]").lower().rstrip(".")
        if self.port is not None and port is not None and port != self.port:
            return False
        if self.wildcard:
            return name.endswith("." + self.host)
        return name == self.host


class NetworkPolicy:
    """The allow list of one emulator, shared by its HTTP interception and its socket guard."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self._patterns: list[HostPattern] = []
        self._lock = threading.Lock()
        self._resolved: set[str] = set()  # addresses allowed names resolved to
        self.allow(*patterns)

    def allow(self, *patterns: str) -> None:
        parsed = [HostPattern.parse(p) for p in patterns]
        with self._lock:
            self._patterns.extend(p for p in parsed if p not in self._patterns)

    @property
    def patterns(self) -> list[HostPattern]:
        return list(self._patterns)

    def allows(self, host: str, port: int | None = None) -> bool:
        """Loopback, or a host an ``allow_hosts`` pattern names."""
        if is_loopback_host(host):
            return True
        if host.strip("[]").lower() in self._resolved:
            return True
        return any(p.matches(host, port) for p in self._patterns)

    def allows_url(self, url: str) -> bool:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            return False
        default = {"https": 443, "http": 80}.get(parts.scheme.lower())
        return self.allows(parts.hostname or "", port or default)

    def remember_addresses(self, infos: Iterable[Any]) -> None:
        with self._lock:
            for info in infos:
                address = info[4][0] if len(info) > 4 and info[4] else None
                if isinstance(address, str):
                    self._resolved.add(address.lower())


# ------------------------------------------------------------------------------------------
# The socket guard: process-wide patches of ``socket``, consulting the active emulator's policy
# ------------------------------------------------------------------------------------------

_guard_lock = threading.Lock()
_policies: list[NetworkPolicy] = []
_originals: dict[str, Callable[..., Any]] = {}


def _policy() -> NetworkPolicy | None:
    return _policies[-1] if _policies else None


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    original = _originals["getaddrinfo"]
    policy = _policy()
    if policy is None or host is None:
        return original(host, port, *args, **kwargs)
    name = host.decode("idna") if isinstance(host, bytes) else str(host)
    numeric_port = port if isinstance(port, int) else None
    if not name or policy.allows(name, numeric_port):
        infos = original(host, port, *args, **kwargs)
        if name and not is_loopback_host(name):
            policy.remember_addresses(infos)
        return infos
    raise NetworkAccessRefused(refusal_message(None, f"name lookup of {name}", name))


def _check_address(sock: Any, address: Any) -> None:
    policy = _policy()
    if policy is None:
        return
    family = getattr(sock, "family", None)
    if family not in (socket.AF_INET, socket.AF_INET6):
        return
    if not isinstance(address, tuple) or not address:
        return
    host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
    port = address[1] if len(address) > 1 and isinstance(address[1], int) else None
    if policy.allows(host, port):
        return
    target = f"connection to {host}:{port}" if port is not None else f"connection to {host}"
    raise NetworkAccessRefused(refusal_message(None, target, host))


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    _check_address(self, address)
    return _originals["connect"](self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    _check_address(self, address)
    return _originals["connect_ex"](self, address)


def push_socket_guard(policy: NetworkPolicy) -> Callable[[], None]:
    """Refuse non-loopback, non-allowed socket traffic until the returned callable is called."""
    with _guard_lock:
        if not _originals:
            _originals["getaddrinfo"] = socket.getaddrinfo
            _originals["connect"] = socket.socket.connect
            _originals["connect_ex"] = socket.socket.connect_ex
            socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]
            socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
            socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
        _policies.append(policy)

    def pop() -> None:
        with _guard_lock:
            if policy in _policies:
                _policies.remove(policy)
            if not _policies and _originals:
                socket.getaddrinfo = _originals.pop("getaddrinfo")  # type: ignore[assignment]
                socket.socket.connect = _originals.pop("connect")  # type: ignore[method-assign]
                socket.socket.connect_ex = _originals.pop("connect_ex")  # type: ignore[method-assign]

    return pop


def socket_guard_installed() -> bool:
    return bool(_originals)
