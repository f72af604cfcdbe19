"""Test settings: all state in a throw-away DATA_DIR unless the caller chose one."""
import os
import tempfile

# tests/conftest.py empties and finally removes a DATA_DIR it made, never one the caller chose.
TEST_DATA_DIR_IS_TEMPORARY = "DATA_DIR" not in os.environ
if TEST_DATA_DIR_IS_TEMPORARY:
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="platform-test-")
os.environ.setdefault("SECRET_KEY", "test-secret-key")


from platform_api.settings import *  # noqa: E402,F401,F403
from platform_api.data_dir import create_data_dir  # noqa: E402

create_data_dir(DATA_DIR, SECRET_KEY)  # noqa: F405  (what `serve` makes for the server, for the tests' workers and uploads)
