"""The gRPC front: clarifai-grpc's V2 service on its own port (the SDK speaks only gRPC).

The RPCs in dispatch.HANDLERS go through the same call path as REST; every other RPC is
the generated V2Servicer's, which answers UNIMPLEMENTED. The key comes in the metadata
`authorization: Key <token>`, as the SDK sends it.
"""
from __future__ import annotations

import logging
from concurrent import futures

import grpc
from clarifai_grpc.grpc.api.service_pb2_grpc import V2Servicer, add_V2Servicer_to_server
from django.db import close_old_connections

from platform_api.clarifai.dispatch import HANDLERS, call, key_from

log = logging.getLogger(__name__)


class PlatformV2Servicer(V2Servicer):
    """V2Servicer whose served RPCs call dispatch.call (bound below, one per RPC)."""


def _rpc(name: str):
    def method(self, request, context):
        metadata = {key.lower(): value for key, value in context.invocation_metadata()}
        # Each call runs in a pool thread: Django's request signals never fire here, so
        # connections are tidied as a request's would be.
        close_old_connections()
        try:
            return call(name, request, key_from(metadata.get("authorization")))
        finally:
            close_old_connections()

    method.__name__ = name
    return method


for _name in HANDLERS:
    setattr(PlatformV2Servicer, _name, _rpc(_name))


# The SDK sends inputs 128 to a request (its channel allows 1 GiB): photos need room.
DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024


def build_server(address: str, workers: int, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
                 ) -> tuple[grpc.Server, int]:
    """(server, bound port); `address` "host:port" (port 0: any free one). Not started."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clarifai-grpc"),
        options=[("grpc.max_receive_message_length", max_message_bytes),
                 ("grpc.max_send_message_length", max_message_bytes)],
    )
    add_V2Servicer_to_server(PlatformV2Servicer(), server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen for gRPC on {address}")
    return server, port
