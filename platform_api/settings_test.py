"""Test settings: all state in a throw-away DATA_DIR unless the caller chose one."""
import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

# tests/conftest.py empties and finally removes a DATA_DIR it made, never one the caller chose.
TEST_DATA_DIR_IS_TEMPORARY = "DATA_DIR" not in os.environ
if TEST_DATA_DIR_IS_TEMPORARY:
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="platform-test-")
os.environ.setdefault("SECRET_KEY", "test-secret-key")

# Under pytest-xdist each test process gets its own Redis database (15, 14, ...), so its worker
# processes never take another process's messages; the embedded broker's folder is under the
# process's own DATA_DIR already, and pytest-django names a test database per process.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...
if _XDIST_WORKER.startswith("gw") and os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
    _broker = urlsplit(os.environ["CELERY_BROKER_URL"])
    _database = (int(_broker.path.strip("/") or 15) - int(_XDIST_WORKER[2:])) % 16
    os.environ["CELERY_BROKER_URL"] = urlunsplit(_broker._replace(path=f"/{_database}"))

from platform_api.settings import *  # noqa: E402,F401,F403
