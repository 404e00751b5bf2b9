"""The :class:`Emulator`: owns the clock, the ids, the transport and one backend per service.

Entering it (``with Emulator():``, ``@Emulator()`` on a function or class, the pytest fixture,
or ``%load_ext emulator`` in IPython) makes its clock the time every reader sees, installs the
HTTP interception, maps ``wallaroo`` (and its submodules) in ``sys.modules`` and sets up
application-default credentials; leaving restores everything as it was. Only one emulator can
be active at a time in a process: entering a second one raises :class:`EmulatorError`.
:func:`current` returns the active one (from inside a decorated function, for instance).
"""

from __future__ import annotations

import functools
import inspect
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
#: ``Emulator(sdk=INSTALLED)``: the installed real ``wallaroo`` package instead of the facade.
INSTALLED = "installed"

_active_lock = threading.Lock()
_active: Emulator | None = None
_start_observers: list[Callable[[Emulator], None]] = []


class EmulatorError(RuntimeError):
    """Misuse of the emulator itself (not an error of an emulated service)."""


def active_emulator() -> Emulator | None:
    """The emulator active in this process, if any."""
    return _active


def current() -> Emulator:
    """The emulator active in this process; :class:`EmulatorError` when none is.

    This is how a function decorated with ``@Emulator(...)`` reaches the fresh emulator of its
    call (``emulator.current().clock.advance(60)``), and how any helper code finds the one the
    caller entered.
    """
    emu = _active
    if emu is None:
        raise EmulatorError(
            "no emulator is active: enter one first (`with Emulator():`, `@Emulator()` on the function, "
            "the pytest fixture `emulator`, or `%load_ext emulator` in IPython)"
        )
    return emu


def on_start(callback: Callable[[Emulator], None]) -> Callable[[], None]:
    """Call ``callback(emu)`` whenever an emulator becomes active; returns a function that unsubscribes.

    Used by the pytest plugin to know which emulators a test used (for its failure reports).
    """
    _start_observers.append(callback)

    def unsubscribe() -> None:
        if callback in _start_observers:
            _start_observers.remove(callback)

    return unsubscribe


class Emulator:
    """One emulated Wallaroo platform and BigQuery service, offline and in-process.

    :param start: instant the virtual clock starts at (default :data:`emulator.clock.DEFAULT_START`).
    :param seed: seed of the id generator; same seed and calls give the same ids.
    :param sdk: SDK profile of the ``wallaroo`` module: ``"2023.2"`` or ``"2026.1"`` (the light
        facade), or ``"installed"``: the real ``wallaroo`` package installed beside the project,
        unchanged, served over HTTP by the emulated platform (its version picks the profile).
    :param database: path of a DuckDB file to keep BigQuery tables in (default: in memory).
    :param project: default Google Cloud project of clients the emulator builds.
    :param allow_hosts: hosts code under the emulator may reach on the real network (patterns of
        :class:`emulator.network.HostPattern`); every other host it does not serve is refused.
    :param static_urls: URLs (or URL prefixes) served offline from local files (or folders).
    :param task_runs: ``"isolated"`` (default): each orchestration task run executes ``main.py`` in
        its own process, as the platform's containers do (docs/task-runs.md); ``"in-process"``:
        inside this process (for debuggers and coverage; see the limits in the docs).
    :param task_real_time_limit: real seconds an isolated run may compute without sleeping before
        it is killed and marked ``timed_out`` (``failure`` in 2023.2).
    :param requirements: ``"strict"`` (default): an orchestration's ``requirements.txt`` that the run
        environment does not satisfy fails packaging (status ``error``, the packaging log names the
        package); ``"lenient"``: a warning in the packaging log, and the orchestration is ``ready``.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Emulator:
        # The constructor's arguments are kept so that :meth:`fresh` (and the decorator, which
        # gives each call a fresh emulator) can build another one just like this one.
        self = super().__new__(cls)
        self._arguments = (args, dict(kwargs))
        return self

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
        task_runs: str = "isolated",
        task_real_time_limit: float = 60.0,
        requirements: str = "strict",
    ) -> None:
        from emulator.wallaroo.orchestrations import REQUIREMENT_MODES

        if requirements not in REQUIREMENT_MODES:
            raise EmulatorError(f"requirements must be one of {', '.join(map(repr, REQUIREMENT_MODES))}, "
                                f"got {requirements!r}")
        #: ``"strict"``: an orchestration whose requirements.txt the run environment does not satisfy
        #: fails packaging; ``"lenient"``: it is warned about in the packaging log and runs anyway.
        self.requirements = requirements
        from emulator.wallaroo.tasks import check_mode

        #: How orchestration task runs execute: ``"isolated"`` (each in its own process) or ``"in-process"``.
        self.task_runs = check_mode(task_runs)
        if isinstance(task_real_time_limit, bool) or not isinstance(task_real_time_limit, int | float) \
                or not 0 < task_real_time_limit < float("inf"):
            raise EmulatorError(f"task_real_time_limit must be a positive number of seconds, got {task_real_time_limit!r}")
        #: Real seconds an isolated run may compute without sleeping before it is killed (``timed_out``).
        self.task_real_time_limit = float(task_real_time_limit)
        profile = normalise_profile(sdk)
        #: ``"facade"`` (``import wallaroo`` is the emulator's facade) or ``"installed"`` (the real SDK).
        self.sdk_source = "facade"
        #: Version of the installed SDK when ``sdk="installed"``.
        self.sdk_version: str | None = None
        if profile == INSTALLED:
            from emulator.wallaroo.installed import installed_profile

            self.sdk_version, profile = installed_profile()
            self.sdk_source = INSTALLED
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
        self._task_server: Any = None
        from emulator.bigquery.auth import ApplicationDefaultCredentials

        self._adc = ApplicationDefaultCredentials(lambda: self.project)
        self._saved_env: dict[str, str | None] = {}
        #: ``token_uri`` of the service-account keys :meth:`service_account_info` mints (Google's
        #: when ``None``); a 127.0.0.1 server sets its own token endpoint here while it serves.
        self.token_uri: str | None = None

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

    # -- the decorator -----------------------------------------------------------------------
    def fresh(self) -> Emulator:
        """A new, inactive emulator built with the same constructor arguments as this one."""
        args, kwargs = self._arguments
        return type(self)(*args, **kwargs)

    def __call__(self, target: F) -> F:
        """Decorate a function (each call runs in a fresh emulator) or a class (each test does).

        As with moto's decorators, every call gets its own emulator built with this one's
        constructor arguments, entered for the call and closed after it, so calls never share
        state; the decorated function reaches it with :func:`current`. This instance is only the
        template. Coroutine functions are awaited inside their emulator. On a class, every
        ``test*`` method is decorated; on a ``unittest.TestCase`` the emulator spans ``setUp``,
        the test and ``tearDown`` instead.
        """
        if isinstance(target, type):
            return self._decorate_class(target)  # type: ignore[return-value]
        if not callable(target):
            raise TypeError(f"@Emulator() decorates functions and classes, not {type(target).__name__}")
        return self._decorate_function(target)

    def _decorate_function(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                emu = self.fresh()
                try:
                    with emu:
                        return await func(*args, **kwargs)
                finally:
                    emu.close()

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            emu = self.fresh()
            try:
                with emu:
                    return func(*args, **kwargs)
            finally:
                emu.close()

        return wrapper  # type: ignore[return-value]

    def _decorate_class(self, cls: type) -> type:
        import unittest

        if issubclass(cls, unittest.TestCase):
            original_setup = cls.setUp
            template = self

            @functools.wraps(original_setup)
            def setUp(test: unittest.TestCase) -> None:  # noqa: N802 - unittest's name
                emu = template.fresh()
                emu.start()
                test.addCleanup(emu.close)
                original_setup(test)

            cls.setUp = setUp  # type: ignore[method-assign]
            return cls
        for name, value in list(vars(cls).items()):
            if name.startswith("test") and inspect.isfunction(value):
                setattr(cls, name, self._decorate_function(value))
        return cls

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
            if self.sdk_source == INSTALLED:
                from emulator.wallaroo.installed import preload

                preload()  # imported before time is patched (pydantic subclasses datetime.date)
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
            self._activate_user_environment()
        except BaseException:
            self._unwind()
            raise
        for observer in list(_start_observers):
            observer(self)
        return self

    def _activate_user_environment(self) -> None:
        """What user code meets besides the services: credentials, client ids, client warnings.

        * application-default credentials (``google.auth.default()``, ``bigquery.Client()`` with
          no arguments): see :class:`emulator.bigquery.auth.ApplicationDefaultCredentials`;
        * the uuid4 ids google-cloud-bigquery draws on the client side (job ids, insert ids)
          come from this emulator's seeded ids (:func:`emulator.ids.seed_client_uuid4`);
        * google-cloud-bigquery's "use pandas-gbq instead" nags are silenced
          (:mod:`emulator.bigquery.client_warnings`).
        """
        from emulator.bigquery.client_warnings import silence_pandas_gbq_nags
        from emulator.ids import seed_client_uuid4

        self._restores.append(self._adc.activate())
        self._restores.append(seed_client_uuid4(self.ids))
        self._restores.append(silence_pandas_gbq_nags())

    @property
    def adc_project(self) -> str:
        """Project of application-default credentials (when ``GOOGLE_CLOUD_PROJECT`` is not set).

        The emulator's ``project`` unless set; applying a seed sets it to the seed's ``project``,
        else its first BigQuery project. Setting it while active rewrites the key file at once.
        """
        return self._adc.effective_project()

    @adc_project.setter
    def adc_project(self, project: str | None) -> None:
        self._adc.set_project(project)

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

        info = mint_service_account_key(
            project or self.project,
            extra=extra,
            client_email=client_email,
            seed=self.seed if deterministic else None,
        )
        if self.token_uri is not None:
            info["token_uri"] = self.token_uri
        return info

    # -- server mode -------------------------------------------------------------------------
    def task_server_urls(self) -> dict[str, str]:
        """URLs an isolated task run's environment names (``WALLAROO_URL``, ``BIGQUERY_EMULATOR_HOST``).

        The emulator's 127.0.0.1 server, started on first need (the first isolated run of this
        emulator) and stopped when the emulator stops; the run's own clients reach the parent over
        the run's channel whatever they are pointed at, the server answers anything else the run
        starts (a subprocess, a raw socket). Empty while the emulator is not active.
        """
        if self._task_server is None:
            if not self.active:
                return {}
            from emulator.server import start_task_server

            self._task_server = start_task_server(self)

            def stop_task_server() -> None:
                server, self._task_server = self._task_server, None
                if server is not None:
                    server.stop()

            self._restores.append(stop_task_server)
        urls = self._task_server.urls
        return {"base": urls.base, "wallaroo": urls.wallaroo, "bigquery": urls.bigquery}

    def serve(self, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> Any:
        """Serve this emulator on ``host:port`` (loopback only; ``0`` picks a free port) to other processes.

        Returns the running :class:`emulator.server.EmulatorServer` — ``.url``, ``.urls``, ``.env()``
        (what a client exports), ``.stop()`` — also a context manager
        (``with emu.serve() as server: ...``). Enters this emulator for as long as it serves
        (nested if it is already active). Keyword arguments: ``seed=`` (a seed file or mapping
        applied now), ``workdir=`` (where the seed's files go), ``clock="settle"|"manual"``
        (see :mod:`emulator.server`). Reference: docs/server.md.
        """
        from emulator.server import serve

        return serve(self, host, port, **kwargs)

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        sdk = f"installed {self.sdk_version}" if self.sdk_source == INSTALLED else self.sdk
        return f"<Emulator {state} sdk={sdk} now={self.clock.now().isoformat()}>"


def normalise_profile(sdk: str) -> str:
    """Map an SDK version string to a profile: ``2023.2[.x]`` or the newest (``2025.2``/``2026.1``)."""
    text = str(sdk).strip()
    if text == INSTALLED:
        return INSTALLED
    if text.startswith("2023.2"):
        return "2023.2"
    if text.startswith(("2025.2", "2026.1", "newest", "latest")):
        return "2026.1"
    raise EmulatorError(f"unknown SDK profile {sdk!r}; choose one of {', '.join(SDK_PROFILES)} or {INSTALLED!r}")
