"""The Storage Read API over real gRPC on a loopback address (server mode).

Serves ``google.cloud.bigquery.storage.v1.BigQueryRead`` (``CreateReadSession``, ``ReadRows``,
``SplitReadStream``) from a :class:`~emulator.bigquery.storage.service.ReadService`. The
service's ``google.api_core`` errors become gRPC statuses with the same code and message, so a
client sees the same exception types as in-process. Insecure channel only: the real client is
pointed here with ``transport=BigQueryReadGrpcTransport(channel=grpc.insecure_channel(...))``
(:func:`emulator.bigquery.storage.read_client`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from google.api_core import exceptions as api_exceptions

from emulator.bigquery.storage.service import (
    CreateReadSessionRequestPb,
    ReadRowsRequestPb,
    ReadService,
    SplitReadStreamRequestPb,
)
from emulator.network import is_loopback_host

SERVICE_NAME = "google.cloud.bigquery.storage.v1.BigQueryRead"
_UNLIMITED = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]


def serve(service: ReadService, *, host: str = "127.0.0.1", port: int = 0,
          max_workers: int = 8) -> tuple[grpc.Server, int]:
    """Start a gRPC server for ``service`` on ``host:port``; returns ``(server, bound port)``."""
    if not is_loopback_host(host):
        raise ValueError(f"the Storage Read API server binds loopback addresses only, not {host!r}")
    handlers = {
        "CreateReadSession": grpc.unary_unary_rpc_method_handler(
            _unary(service.create_read_session),
            request_deserializer=CreateReadSessionRequestPb.FromString,
            response_serializer=lambda message: message.SerializeToString()),
        "ReadRows": grpc.unary_stream_rpc_method_handler(
            _streaming(service.read_rows),
            request_deserializer=ReadRowsRequestPb.FromString,
            response_serializer=lambda message: message.SerializeToString()),
        "SplitReadStream": grpc.unary_unary_rpc_method_handler(
            _unary(service.split_read_stream),
            request_deserializer=SplitReadStreamRequestPb.FromString,
            response_serializer=lambda message: message.SerializeToString()),
    }
    server = grpc.server(ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="bq-storage-read"),
                         options=_UNLIMITED)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
    bound = server.add_insecure_port(f"{host}:{port}")
    if not bound:
        raise OSError(f"could not bind the Storage Read API server to {host}:{port}")
    server.start()
    return server, bound


def _abort(context: grpc.ServicerContext, exc: BaseException) -> None:
    if isinstance(exc, api_exceptions.GoogleAPICallError) and exc.grpc_status_code is not None:
        context.abort(exc.grpc_status_code, exc.message)
    context.abort(grpc.StatusCode.INTERNAL, f"wallaroo-emulator: {type(exc).__name__}: {exc}")


def _unary(method: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(request)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status
            _abort(context, exc)

    return handle


def _streaming(method: Callable[[Any], Iterator[Any]]) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
    def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            for response in method(request):
                if not context.is_active():
                    return
                yield response
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status
            _abort(context, exc)

    return handle
