"""Test settings: all state in a throw-away DATA_DIR unless the caller chose one.

Under pytest-xdist each worker process is a separate platform: its own DATA_DIR (so its own
SQLite database and file-system broker), its own Redis database when the broker is Redis,
and its own PostgreSQL test database (pytest-django names it `test_<name>_gw<n>`). The
processes a test starts (real Celery workers) inherit the environment set here and share
their test process's platform: the split happens once per test process."""
import os
import re
import tempfile

XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ... under xdist; "" otherwise
MADE_DATA_DIR = "PLATFORM_TEST_MADE_DATA_DIR"  # the DATA_DIR a test process made (and removes)
SPLIT_FOR = "PLATFORM_TEST_SETTINGS_FOR"  # the test process the environment was set up for


def _redis_database_of_worker(url: str, worker: str) -> str:
    """redis://host:port/15 for gw0, /14 for gw1, ...: one Redis database per xdist worker."""
    match = re.fullmatch(r"(rediss?://[^/]*)(?:/(\d*))?", url)
    if not worker or not match:
        return url
    base = int(match.group(2) or 0)
    return f"{match.group(1)}/{(base - int(worker.removeprefix('gw'))) % 16}"


if os.environ.get(SPLIT_FOR) != (XDIST_WORKER or "main"):
    # The xdist controller's own throw-away folder holds its workers' folders.
    inside = os.environ["DATA_DIR"] if os.environ.get(MADE_DATA_DIR, "") == os.environ.get("DATA_DIR") else None
    if "DATA_DIR" not in os.environ or inside:
        prefix = f"platform-test-{XDIST_WORKER}-" if XDIST_WORKER else "platform-test-"
        os.environ["DATA_DIR"] = os.environ[MADE_DATA_DIR] = tempfile.mkdtemp(prefix=prefix, dir=inside)
    elif XDIST_WORKER:  # a DATA_DIR the caller chose: each worker takes a folder in it
        os.environ["DATA_DIR"] = os.path.join(os.environ["DATA_DIR"], XDIST_WORKER)
    if "CELERY_BROKER_URL" in os.environ:
        os.environ["CELERY_BROKER_URL"] = _redis_database_of_worker(os.environ["CELERY_BROKER_URL"], XDIST_WORKER)
    os.environ[SPLIT_FOR] = XDIST_WORKER or "main"
# tests/conftest.py empties and finally removes a DATA_DIR a test process made, never one the caller chose.
TEST_DATA_DIR_IS_TEMPORARY = os.environ.get(MADE_DATA_DIR) == os.environ["DATA_DIR"]
os.environ.setdefault("SECRET_KEY", "test-secret-key")


from platform_api.settings import *  # noqa: E402,F401,F403
from platform_api.data_dir import create_data_dir  # noqa: E402

create_data_dir(DATA_DIR, SECRET_KEY)  # noqa: F405  (what `serve` makes for the server, for the tests' workers and uploads)
