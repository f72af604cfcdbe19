"""The command line of the web server (gunicorn), shared by `manage.py serve` and the
benchmarks that start one; importing it loads no Django app."""
from __future__ import annotations

import os
import sys

from platform_api.env import env_int


def web_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "platform_api.wsgi:application",
        "--bind", f"{os.environ.get('HOST', '0.0.0.0')}:{port}",
        "--workers", str(env_int("WEB_PROCESSES", 1)), "--threads", str(env_int("WEB_THREADS", 8)),
        "--timeout", "300", "--access-logfile", "-",
    ]
