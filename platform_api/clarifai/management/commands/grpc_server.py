"""`python manage.py grpc_server`: the Clarifai v2 gRPC API, for the clarifai SDK
(`base_url="http://<host>:<GRPC_PORT>"`). `make run` starts it beside the web server."""
from __future__ import annotations

import os
import signal
import threading

from django.core.management.base import BaseCommand

from platform_api.clarifai.grpc_server import DEFAULT_MAX_MESSAGE_BYTES, build_server
from platform_api.env import env_int

GRACE_SECONDS = 10  # calls in flight may finish after a stop is asked


class Command(BaseCommand):
    help = "Serve the Clarifai v2 gRPC API on GRPC_PORT (default 18080)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=env_int("GRPC_PORT", 18080, minimum=1))
        parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
        parser.add_argument("--threads", type=int, default=env_int("GRPC_THREADS", 8, minimum=1))
        parser.add_argument("--max-message-bytes", type=int,
                            default=env_int("GRPC_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES, minimum=1))

    def handle(self, *args, port: int, host: str, threads: int, max_message_bytes: int, **options):
        server, bound = build_server(f"{host}:{port}", threads, max_message_bytes)
        server.start()
        self.stdout.write(f"Clarifai v2 gRPC API on {host}:{bound} ({threads} threads)")
        stopped = threading.Event()

        def stop(signum, frame):
            stopped.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        # A signal that lands on one of gRPC's threads does not wake a main thread blocked for
        # good: it runs Python's handler only when it next runs, so it wakes every second.
        while not stopped.wait(1.0):
            pass
        server.stop(GRACE_SECONDS).wait()
