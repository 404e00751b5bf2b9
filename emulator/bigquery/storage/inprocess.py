"""The in-process transport of ``BigQueryReadClient``: Storage Read API calls answered by a
:class:`ReadService` with no channel and no socket.

Hook (the least invasive one the client offers): ``BigQueryReadClient`` builds its transport
from the class registered under ``"grpc"`` in its transport registry (``get_transport_class``);
google-cloud-bigquery's own Storage clients go through the same registry (its default transport
and the keepalive transport of ``ARROW`` query results). While an emulator is active that entry
is a selector class: for Google's endpoint (``bigquerystorage.googleapis.com``, regional and
mTLS variants, any port) it builds an :class:`InProcessReadTransport` bound to the emulator's
backend; for any other endpoint, or when given a ready ``grpc.Channel``, it builds the real gRPC
transport unchanged (a client pointed at :func:`emulator.bigquery.storage.serve_grpc`). Leaving
the emulator puts the original entry back; a client built while it was active stays bound to
that backend. If the storage package is imported only after the emulator became active, an
import hook patches it as it loads.

One knob of google-cloud-bigquery is turned while active: ``_pandas_helpers._PROGRESS_INTERVAL``
(0.2 s → :data:`PROGRESS_INTERVAL`). Its Storage download loop polls its worker threads with that
timeout and, once a read is complete, still waits one full interval on an empty queue before
it notices (the loop checks the workers before it reads the queue). Over a network that is noise;
in-process it was most of the time of every ``to_dataframe()``. The client's path is otherwise
unchanged, and the value is put back on exit.

Not covered: ``BigQueryReadAsyncClient`` (asyncio transport) and a ``BigQueryReadGrpcTransport``
instantiated directly for Google's endpoint; both would try the real network.

Credentials are accepted as they are (anonymous, service-account keys the emulator minted,
self-signed JWTs): like the REST stand-in, the in-process transport never refreshes them.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import inspect
import sys
from collections.abc import Callable, Iterator
from typing import Any

WATCHED = "google.cloud.bigquery_storage_v1.services.big_query_read.client"
PANDAS_HELPERS = "google.cloud.bigquery._pandas_helpers"
_PATCHED_MODULES = (WATCHED, PANDAS_HELPERS)
#: How often google-cloud-bigquery's download loop polls its worker threads while active (s).
PROGRESS_INTERVAL = 0.0002


def is_google_endpoint(host: str) -> bool:
    """Whether ``host`` is Google's Storage API endpoint (what the emulator answers in-process)."""
    name = (host or "").split("://", 1)[-1].rsplit(":", 1)[0].lower().rstrip(".")
    return name == "bigquerystorage.googleapis.com" or name.endswith("-bigquerystorage.googleapis.com") \
        or name == "bigquerystorage.mtls.googleapis.com" or name.endswith(".bigquerystorage.googleapis.com")


#: The service the selector binds new transports to while an emulator is active.
_active_service: Any = None


@functools.cache
def _transport_classes() -> tuple[type, type]:
    """(the in-process transport class, the registry selector class), built once per process."""
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports.base import (
        DEFAULT_CLIENT_INFO,
        BigQueryReadTransport,
    )
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports.grpc import (
        BigQueryReadGrpcTransport,
    )
    from google.cloud.bigquery_storage_v1.types import storage as storage_types
    from google.cloud.bigquery_storage_v1.types import stream as stream_types

    _BASE_TAKES_AUDIENCE = "api_audience" in inspect.signature(BigQueryReadTransport.__init__).parameters

    class InProcessReadTransport(BigQueryReadTransport):
        """``BigQueryReadTransport`` answering from the emulator's backend, in-process."""

        def __init__(self, service: Any, *, host: str = BigQueryReadTransport.DEFAULT_HOST, credentials: Any = None,
                     credentials_file: str | None = None, scopes: Any = None, quota_project_id: str | None = None,
                     client_info: Any = DEFAULT_CLIENT_INFO, always_use_jwt_access: bool | None = False,
                     api_audience: str | None = None, **_grpc_only: Any) -> None:
            options = {"api_audience": api_audience} if _BASE_TAKES_AUDIENCE else {}  # not in old releases
            super().__init__(host=host, credentials=credentials, credentials_file=credentials_file, scopes=scopes,
                             quota_project_id=quota_project_id, client_info=client_info,
                             always_use_jwt_access=always_use_jwt_access, **options)
            self._service = service
            self._closed = False
            self._prep_wrapped_messages(client_info)

        def _check_open(self) -> None:
            if self._closed:
                raise ValueError("Cannot invoke RPC on closed channel!")  # what a closed gRPC channel says

        def _create_read_session(self, request: Any, **_call: Any) -> Any:
            self._check_open()
            raw = storage_types.CreateReadSessionRequest.pb(request)
            return stream_types.ReadSession.wrap(self._service.create_read_session(raw))

        def _read_rows(self, request: Any, **_call: Any) -> Any:
            self._check_open()
            return _ResponseStream(self._service.read_rows(storage_types.ReadRowsRequest.pb(request)),
                                   storage_types.ReadRowsResponse.wrap)

        def _split_read_stream(self, request: Any, **_call: Any) -> Any:
            self._check_open()
            raw = storage_types.SplitReadStreamRequest.pb(request)
            return storage_types.SplitReadStreamResponse.wrap(self._service.split_read_stream(raw))

        @property
        def create_read_session(self) -> Callable[..., Any]:
            return self._create_read_session

        @property
        def read_rows(self) -> Callable[..., Any]:
            return self._read_rows

        @property
        def split_read_stream(self) -> Callable[..., Any]:
            return self._split_read_stream

        @property
        def kind(self) -> str:
            return "grpc"

        def close(self) -> None:
            self._closed = True

    class EmulatedTransportSelector(BigQueryReadGrpcTransport):
        """Registered as ``"grpc"`` while an emulator is active (see the module docstring)."""

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            import grpc

            host = kwargs.get("host", BigQueryReadGrpcTransport.DEFAULT_HOST)
            service = _active_service
            if service is not None and is_google_endpoint(host) and not isinstance(kwargs.get("channel"), grpc.Channel) \
                    and not kwargs.get("api_mtls_endpoint"):
                return InProcessReadTransport(service, **kwargs)
            return BigQueryReadGrpcTransport(*args, **kwargs)

    return InProcessReadTransport, EmulatedTransportSelector


class _ResponseStream:
    """The iterator ``read_rows`` returns: wraps raw responses; ``cancel()`` ends it early."""

    def __init__(self, raw: Iterator[Any], wrap: Callable[[Any], Any]) -> None:
        self._raw = raw
        self._wrap = wrap

    def __iter__(self) -> _ResponseStream:
        return self

    def __next__(self) -> Any:
        return self._wrap(next(self._raw))

    def cancel(self) -> None:
        close = getattr(self._raw, "close", None)
        if close is not None:
            close()


class _Installation:
    """What :func:`install` changed, and how to put it back."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.undo: list[Callable[[], None]] = []
        self.patched: set[str] = set()
        self.finder: _PatchOnImport | None = None

    def patch(self, name: str, module: Any) -> None:
        if name in self.patched:
            return
        self.patched.add(name)
        if name == WATCHED:
            global _active_service
            registry = module.BigQueryReadClientMeta._transport_registry
            original = registry.get("grpc")
            if original is None:
                return
            _, selector = _transport_classes()
            registry["grpc"] = selector
            previous, _active_service = _active_service, self.service

            def undo() -> None:
                global _active_service
                registry["grpc"] = original
                _active_service = previous

            self.undo.append(undo)
        elif name == PANDAS_HELPERS:
            interval = getattr(module, "_PROGRESS_INTERVAL", None)
            if isinstance(interval, int | float) and interval > PROGRESS_INTERVAL:
                module._PROGRESS_INTERVAL = PROGRESS_INTERVAL
                self.undo.append(lambda: setattr(module, "_PROGRESS_INTERVAL", interval))

    def restore(self) -> None:
        if self.finder is not None:
            try:
                sys.meta_path.remove(self.finder)
            except ValueError:
                pass
            self.finder = None
        while self.undo:
            self.undo.pop()()
        self.patched.clear()


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches the watched modules right after they are first imported."""

    def __init__(self, installation: _Installation) -> None:
        self.installation = installation

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in _PATCHED_MODULES or fullname in self.installation.patched:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PatchingLoader(spec.loader, self.installation, fullname)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, installation: _Installation, name: str) -> None:
        self.loader = loader
        self.installation = installation
        self.name = name

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        self.installation.patch(self.name, module)

    def __getattr__(self, name: str) -> Any:  # get_code, get_source, is_package... for tools
        return getattr(self.loader, name)


def install(service: Any) -> Callable[[], None]:
    """Answer ``BigQueryReadClient`` calls for Google's endpoint with ``service``, in-process.

    Returns the function that undoes it.
    """
    installation = _Installation(service)
    for name in _PATCHED_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            installation.patch(name, module)
    if len(installation.patched) < len(_PATCHED_MODULES):
        installation.finder = _PatchOnImport(installation)
        sys.meta_path.insert(0, installation.finder)
    return installation.restore


def storage_message_classes() -> dict[str, tuple[type, type]]:
    """``{method: (raw request class, raw response class)}`` of the Read API (how a task run's
    process and its parent exchange these messages, serialized)."""
    from google.cloud.bigquery_storage_v1.types import storage as storage_types
    from google.cloud.bigquery_storage_v1.types import stream as stream_types

    return {
        "create_read_session": (storage_types.CreateReadSessionRequest.pb(), stream_types.ReadSession.pb()),
        "read_rows": (storage_types.ReadRowsRequest.pb(), storage_types.ReadRowsResponse.pb()),
        "split_read_stream": (storage_types.SplitReadStreamRequest.pb(), storage_types.SplitReadStreamResponse.pb()),
    }
