"""The BigQuery Storage Read API (``google.cloud.bigquery.storage.v1.BigQueryRead``) over a backend.

The real client reads query results and tables with this API whenever
``google-cloud-bigquery-storage`` is installed (``to_dataframe()``, ``to_arrow()``,
``to_dataframe_iterable()``, ``list_rows(...).to_arrow()``, the DB-API cursor), and user code can
use ``BigQueryReadClient`` directly. Two ways to reach the same :class:`~.service.ReadService`:

* **in-process** (:func:`install_in_process`, done by the emulator while it is active): every
  ``BigQueryReadClient`` made for Google's endpoint is answered by an in-process transport,
  with any credentials, no channel and no socket (:mod:`.inprocess`);
* **gRPC on 127.0.0.1** (:func:`serve_grpc`): the same service for other processes;
  :func:`read_client` builds a ``BigQueryReadClient`` on an insecure channel to it.

Behaviour (sessions, streams, snapshots, errors) is documented in :mod:`.service`, data formats
in :mod:`.formats`, row restrictions in :mod:`.restriction`. This module imports nothing heavy
until used.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.bigquery.backend import BigQueryBackend
    from emulator.bigquery.storage.service import ReadService

_services: weakref.WeakKeyDictionary[Any, ReadService] = weakref.WeakKeyDictionary()


def storage_client_installed() -> bool:
    """Whether google-cloud-bigquery-storage can be imported."""
    import importlib.util

    try:
        return importlib.util.find_spec("google.cloud.bigquery_storage_v1") is not None
    except (ImportError, ValueError):
        return False


def read_service(backend: BigQueryBackend) -> ReadService:
    """The Storage Read API service of ``backend`` (one per backend, created on first use)."""
    service = _services.get(backend)
    if service is None:
        from emulator.bigquery.storage.service import ReadService

        service = _services.setdefault(backend, ReadService(backend))
    return service


class _LazyService:
    """Creates the backend's service on the first call (the in-process transport's view of it)."""

    def __init__(self, backend: BigQueryBackend) -> None:
        self._backend = weakref.ref(backend)

    def __getattr__(self, name: str) -> Any:
        backend = self._backend()
        if backend is None:
            raise RuntimeError("the emulator this BigQuery Storage client was made for is gone")
        return getattr(read_service(backend), name)


def install_in_process(backend: BigQueryBackend) -> Callable[[], None]:
    """Answer ``BigQueryReadClient`` for Google's endpoint from ``backend`` in this process.

    Returns the function that restores the client library as it was. Cheap: nothing is
    imported; if google-cloud-bigquery-storage is imported later, it is patched as it loads.
    """
    from emulator.bigquery.storage.inprocess import install

    return install(_LazyService(backend))


def serve_grpc(backend: BigQueryBackend, host: str = "127.0.0.1", port: int = 0, *,
               max_workers: int = 8) -> tuple[Any, int]:
    """Serve ``backend``'s Storage Read API over insecure gRPC; returns ``(grpc.Server, port)``.

    Binds a loopback address only (``port=0`` picks a free port). Stop it with
    ``server.stop(grace=None)``.
    """
    from emulator.bigquery.storage.grpc_server import serve

    return serve(read_service(backend), host=host, port=port, max_workers=max_workers)


def read_client(port: int, host: str = "127.0.0.1", **kwargs: Any) -> Any:
    """A real ``BigQueryReadClient`` talking to :func:`serve_grpc` at ``host:port``.

    The real client only speaks TLS unless it is handed a channel, which is how it is pointed
    at an emulator: ``BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=
    grpc.insecure_channel("127.0.0.1:PORT")))``. That is what this returns.
    """
    import grpc
    from google.cloud.bigquery_storage_v1 import BigQueryReadClient
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports.grpc import (
        BigQueryReadGrpcTransport,
    )

    channel = grpc.insecure_channel(f"{host}:{port}", options=[("grpc.max_receive_message_length", -1),
                                                               ("grpc.max_send_message_length", -1)])
    return BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=channel), **kwargs)
