"""Test settings: all state in a throw-away DATA_DIR unless the caller chose one."""
import os
import tempfile

os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="platform-test-"))
os.environ.setdefault("SECRET_KEY", "test-secret-key")

from platform_api.settings import *  # noqa: E402,F401,F403
