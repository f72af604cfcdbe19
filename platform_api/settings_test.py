"""Test settings: all state in a throw-away DATA_DIR unless the caller chose one.

Under pytest-xdist each worker process is a separate platform: its own DATA_DIR (so its own
SQLite database and file-system broker), its own Redis database when the broker is Redis,
and its own PostgreSQL test database (pytest-django names it `test_<name>_gw<n>`)."""
import os
import re
import tempfile

XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ... under xdist; "" otherwise


def _redis_database_of_worker(url: str, worker: str) -> str:
    """redis://host:port/15 for gw0, /14 for gw1, ...: one Redis database per xdist worker."""
    match = re.fullmatch(r"(rediss?://[^/]*)(?:/(\d*))?", url)
    if not worker or not match:
        return url
    base = int(match.group(2) or 0)
    return f"{match.group(1)}/{(base - int(worker.removeprefix('gw'))) % 16}"


# tests/conftest.py empties and finally removes a DATA_DIR it made, never one the caller chose.
TEST_DATA_DIR_IS_TEMPORARY = "DATA_DIR" not in os.environ
if TEST_DATA_DIR_IS_TEMPORARY:
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix=f"platform-test-{XDIST_WORKER}-" if XDIST_WORKER else "platform-test-")
elif XDIST_WORKER:  # a chosen DATA_DIR is shared by nothing: each worker takes a folder in it
    os.environ["DATA_DIR"] = os.path.join(os.environ["DATA_DIR"], XDIST_WORKER)
if "CELERY_BROKER_URL" in os.environ:  # in os.environ: the tests' worker processes inherit it
    os.environ["CELERY_BROKER_URL"] = _redis_database_of_worker(os.environ["CELERY_BROKER_URL"], XDIST_WORKER)
os.environ.setdefault("SECRET_KEY", "test-secret-key")


from platform_api.settings import *  # noqa: E402,F401,F403
from platform_api.data_dir import create_data_dir  # noqa: E402

create_data_dir(DATA_DIR, SECRET_KEY)  # noqa: F405  (what `serve` makes for the server, for the tests' workers and uploads)
