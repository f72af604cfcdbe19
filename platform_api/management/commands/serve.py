"""`make run`: migrate, load the template catalogue, then run the web server and workers.

Starts gunicorn and two real Celery worker processes (one for training, one for dataset
imports and housekeeping) and supervises them: a worker that exits unexpectedly is
started again, and the work it held is queued again at once (not when its lease runs
out); its jobs resume from their checkpoints. Ctrl-C stops everything.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from platform_api.data_dir import create_data_dir
from platform_api.env import env_int
from platform_api.recovery import recover_dead_worker
from platform_api.web_command import web_command


def worker_command(queues: str, name: str) -> list[str]:
    # The solo pool runs tasks in the worker process itself: the pid the supervisor sees
    # exit is the one its leases name (a prefork pool's children would hold them instead).
    return [
        sys.executable, "-m", "celery", "-A", "platform_api", "worker",
        "--pool", "solo", "--concurrency", "1", "--queues", queues,
        "--hostname", f"{name}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
    ]


def grpc_command(port: int) -> list[str]:
    """The Clarifai v2 gRPC API (platform_api/clarifai), for the clarifai SDK."""
    return [sys.executable, str(settings.BASE_DIR / "manage.py"), "grpc_server", "--port", str(port)]


class Command(BaseCommand):
    help = "Run the platform: web server plus training and housekeeping workers."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=env_int("PORT", 8000))
        parser.add_argument("--grpc-port", type=int, default=env_int("GRPC_PORT", 18080, minimum=1))
        parser.add_argument("--no-web", action="store_true", help="run only the workers")

    def handle(self, *args, port: int, grpc_port: int, no_web: bool, **options):
        create_data_dir(settings.DATA_DIR, settings.SECRET_KEY)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_templates")
        call_command("collectstatic", interactive=False, verbosity=0)
        connection.close()  # held idle for hours otherwise; recovery opens its own
        commands = {
            "worker-training": worker_command("training", "training"),
            "worker-default": worker_command("default", "default"),
        }
        if not no_web:
            commands["web"] = web_command(port)
            commands["grpc"] = grpc_command(grpc_port)
        children = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
        self._announce(port, grpc_port)
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                time.sleep(1)
                for name, child in list(children.items()):
                    if child.poll() is None:
                        continue
                    if name in ("web", "grpc"):
                        self.stderr.write(f"{name} server exited with code {child.returncode}; stopping")
                        stopping = True
                        break
                    self.stderr.write(f"{name} exited with code {child.returncode}; starting it again")
                    self._requeue_work_of(name, child.pid)
                    children[name] = subprocess.Popen(commands[name])
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.time() + 30
            for name, child in children.items():
                try:
                    child.wait(timeout=max(deadline - time.time(), 0.1))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
                if name != "web":  # one killed mid-job, or crashed while stopping
                    self._requeue_work_of(name, child.pid)

    def _requeue_work_of(self, name: str, pid: int) -> None:
        """The worker is gone: what it held is queued again now. Should the database or the
        broker be unreachable, its leases run out and the workers' recovery loops (or their
        lost-delivery checks) do it later; the supervisor goes on restarting workers."""
        try:
            requeued = recover_dead_worker(pid)
        except Exception as exc:  # a database or broker outage (see above)
            self.stderr.write(f"{name}: could not queue its work again now ({exc!r}); its leases will lapse")
            return
        finally:
            connection.close()  # a fresh connection next time: the database may restart meanwhile
        for what, pk in requeued:
            self.stderr.write(f"{name}: {what} {pk} queued again at once")

    def _announce(self, port: int, grpc_port: int) -> None:
        self.stdout.write(
            f"\nPlatform running at http://localhost:{port}/  (console: /, API: /api/v1/, docs: /api/docs/, admin: /admin/)\n"
            f"Clarifai v2: REST at http://localhost:{port}/v2/, gRPC (the clarifai SDK) at http://localhost:{grpc_port}\n"
            f"State lives in {settings.DATA_DIR}\n"
            f"Make an account:  DATA_DIR={settings.DATA_DIR} .venv/bin/python manage.py create_user <username>\n"
            f"then sign in and create an API token under 'API tokens' (or: manage.py create_api_token <username>)\n"
            f"Then: curl -H 'Authorization: Token <token>' http://localhost:{port}/api/v1/templates/\n"
        )
