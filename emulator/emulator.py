"""The :class:`Emulator`: owns the clock, the ids, the transport and one backend per service.

Entering it (``with Emulator():``, ``@Emulator()`` on a function, or the pytest fixture) makes
its clock the time every reader sees, installs the HTTP interception and maps ``wallaroo``
(and its submodules) in ``sys.modules``; leaving restores everything as it was. Only one
emulator can be active at a time in a process: entering a second one raises
:class:`EmulatorError`.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from emulator import clock as clock_module
from emulator.clock import Clock
from emulator.ids import IdGenerator
from emulator.network import NetworkPolicy, push_socket_guard
from emulator.transport import Router, interceptions

F = TypeVar("F", bound=Callable[..., Any])

#: Where the emulator serves BigQuery besides its default endpoint: point
#: ``BIGQUERY_EMULATOR_HOST`` or ``client_options={"api_endpoint": ...}`` here.
BIGQUERY_EMULATOR_URL = "http://bigquery.emulator.localhost"
#: Where the emulated Wallaroo platform lives (``wl.api_endpoint``).
WALLAROO_EMULATOR_URL = "http://wallaroo.emulator.localhost"
#: Google's default BigQuery endpoint and token endpoint, intercepted while active.
BIGQUERY_DEFAULT_URL = "https://bigquery.googleapis.com"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
#: Paths of the Wallaroo API (MLOps REST, GraphQL, inference, Keycloak) claimed on any host.
WALLAROO_PATHS = r"/v1/|/auth/(?:realms|admin)/"

SDK_PROFILES = ("2023.2", "2026.1")

_active_lock = threading.Lock()
_active: Emulator | None = None


class EmulatorError(RuntimeError):
    """Misuse of the emulator itself (not an error of an emulated service)."""


def active_emulator() -> Emulator | None:
    """The emulator active in this process, if any."""
    return _active


class Emulator:
    """One emulated Wallaroo platform and BigQuery service, offline and in-process.

    :param start: instant the virtual clock starts at (default :data:`emulator.clock.DEFAULT_START`).
    :param seed: seed of the id generator; same seed and calls give the same ids.
    :param sdk: SDK profile of the ``wallaroo`` module: ``"2023.2"`` or ``"2026.1"``.
    :param database: path of a DuckDB file to keep BigQuery tables in (default: in memory).
    :param project: default Google Cloud project of clients the emulator builds.
    :param allow_hosts: hosts code under the emulator may reach on the real network (patterns of
        :class:`emulator.network.HostPattern`); every other host it does not serve is refused.
    :param static_urls: URLs (or URL prefixes) served offline from local files (or folders).
    """

    def __init__(
        self,
        *,
        start: datetime | str | float | None = None,
        seed: int = 0,
        sdk: str = "2023.2",
        database: str | os.PathLike[str] | None = None,
        project: str = "wallaroo-emulator",
        allow_hosts: Sequence[str] = (),
        static_urls: Mapping[str, str | os.PathLike[str]] | None = None,
    ) -> None:
        profile = normalise_profile(sdk)
        self.sdk = profile
        self.seed = seed
        self.project = project
        self.clock = Clock(start)
        self.ids = IdGenerator(seed)
        self.network = NetworkPolicy(allow_hosts)
        self.router = Router(self.network)
        for url, local in (static_urls or {}).items():
            self.router.serve_static(url, local)
        self._interceptions = interceptions(self.router)
        self._restores: list[Callable[[], None]] = []
        self._depth = 0
        self._saved_env: dict[str, str | None] = {}

        from emulator.bigquery.backend import BigQueryBackend
        from emulator.bigquery.rest import register_routes

        self.bigquery = BigQueryBackend(self.clock, self.ids, database=Path(database) if database else None)
        register_routes(self.router, self.bigquery)
        for url in (BIGQUERY_DEFAULT_URL, BIGQUERY_EMULATOR_URL, GOOGLE_TOKEN_URL):
            self.router.serve_host(url, "bigquery")
        self.wallaroo: Any = None
        try:
            from emulator.wallaroo import activation as _wallaroo_activation
        except ImportError:  # the platform adapter is optional while it is being built
            _wallaroo_activation = None
        self._wallaroo_activation = _wallaroo_activation
        if _wallaroo_activation is not None:
            self.wallaroo = _wallaroo_activation.create_backend(self)
        # The Wallaroo API answers at its own URL and, like the real SDK's `api_endpoint`, at
        # whatever host a user names: its paths are claimed on any non-Google, non-loopback host.
        self.router.serve_host(WALLAROO_EMULATOR_URL, "wallaroo")
        self.router.serve_paths("wallaroo", WALLAROO_PATHS)

    # -- activation ------------------------------------------------------------------------
    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        """Use the emulator as a decorator: active for the duration of each call."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    @property
    def active(self) -> bool:
        return _active is self

    def start(self) -> Emulator:
        global _active
        with _active_lock:
            if _active is self:
                self._depth += 1
                return self
            if _active is not None:
                raise EmulatorError(
                    "another Emulator is already active in this process; leave it before entering a new one"
                )
            _active = self
            self._depth = 1
        try:
            clock_module.activate(self.clock)
            self._restores.append(lambda: clock_module.deactivate(self.clock))
            env_host = os.environ.get("BIGQUERY_EMULATOR_HOST")
            if env_host and "://" in env_host:
                self.router.serve_host(env_host, "bigquery")
            for interception in self._interceptions:
                interception.start()
                self._restores.append(interception.stop)
            self._restores.append(push_socket_guard(self.network))
            from emulator.bigquery.storage import install_in_process

            self._restores.append(install_in_process(self.bigquery))
            if self._wallaroo_activation is not None:
                self._restores.append(self._wallaroo_activation.activate(self))
        except BaseException:
            self._unwind()
            raise
        return self

    def stop(self) -> None:
        global _active
        with _active_lock:
            if _active is not self:
                return
            self._depth -= 1
            if self._depth > 0:
                return
        self._unwind()

    def _unwind(self) -> None:
        global _active
        try:
            while self._restores:
                self._restores.pop()()
        finally:
            with _active_lock:
                _active = None
                self._depth = 0

    def close(self) -> None:
        """Stop if active and release the DuckDB database and extracted orchestrations."""
        self.stop()
        self.bigquery.close()
        store = getattr(self.wallaroo, "orchestrations", None)
        if store is not None and hasattr(store, "close"):
            store.close()

    # -- serving more endpoints --------------------------------------------------------------
    def serve_bigquery_at(self, url: str) -> None:
        """Also answer BigQuery (and token) requests sent to ``url`` (e.g. a custom ``api_endpoint``)."""
        self.router.serve_host(url, "bigquery")

    # -- the network -------------------------------------------------------------------------
    def allow_hosts(self, *patterns: str) -> None:
        """Let code under this emulator reach these hosts on the real network (see :mod:`emulator.network`)."""
        self.network.allow(*patterns)

    def serve_static(self, url: str, local: str | os.PathLike[str]) -> None:
        """Serve ``url`` offline from a local file, or every URL under it from a local folder."""
        self.router.serve_static(url, local)

    # -- conveniences ----------------------------------------------------------------------
    def bigquery_client(self, project: str | None = None, **kwargs: Any) -> Any:
        """A real ``google.cloud.bigquery.Client`` wired to this emulator (anonymous credentials)."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        kwargs.setdefault("credentials", AnonymousCredentials())
        return bigquery.Client(project=project or self.project, **kwargs)

    def service_account_info(
        self,
        project: str | None = None,
        *,
        extra: dict[str, Any] | None = None,
        client_email: str | None = None,
        deterministic: bool = True,
    ) -> dict[str, Any]:
        """A service-account key dict the emulator accepts (see :func:`emulator.bigquery.auth.mint_service_account_key`)."""
        from emulator.bigquery.auth import mint_service_account_key

        return mint_service_account_key(
            project or self.project,
            extra=extra,
            client_email=client_email,
            seed=self.seed if deterministic else None,
        )

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"<Emulator {state} sdk={self.sdk} now={self.clock.now().isoformat()}>"


def normalise_profile(sdk: str) -> str:
    """Map an SDK version string to a profile: ``2023.2[.x]`` or the newest (``2025.2``/``2026.1``)."""
    text = str(sdk).strip()
    if text.startswith("2023.2"):
        return "2023.2"
    if text.startswith(("2025.2", "2026.1", "newest", "latest")):
        return "2026.1"
    raise EmulatorError(f"unknown SDK profile {sdk!r}; choose one of {', '.join(SDK_PROFILES)}")
