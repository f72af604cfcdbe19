"""A bad setting stops the process at start, with a message naming the variable, instead
of failing later on first use (a 500, or every job failing)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START = "import django; django.setup(); print('started')"


def start_with(tmp_path, **env):
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    run_env = {**base, "DJANGO_SETTINGS_MODULE": "platform_api.settings", "DATA_DIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-c", START], cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=60)


def test_the_embedded_default_starts(tmp_path):
    done = start_with(tmp_path)
    assert done.returncode == 0 and "started" in done.stdout, done.stderr[-2000:]


@pytest.mark.parametrize(
    "env, message",
    [
        ({"STORAGE_BACKEND": "bogus"}, "STORAGE_BACKEND must be one of 'local', 's3'"),
        ({"STORAGE_BACKEND": "s3"}, "STORAGE_BACKEND=s3 needs S3_BUCKET"),
        ({"TRAINING_DEVICE": "gpu"}, "TRAINING_DEVICE must be empty (automatic), cpu, cuda or cuda:<index>"),
        ({"DATABASE_URL": "foo"}, "DATABASE_URL is not a database URL"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"JOB_HEARTBEAT_SECONDS": "-1"}, "JOB_HEARTBEAT_SECONDS must be at least 0.1"),
        ({"JOB_HEARTBEAT_SECONDS": "40"}, "must be at most half of JOB_LEASE_SECONDS"),
        ({"JOB_MAX_ATTEMPTS": "0"}, "JOB_MAX_ATTEMPTS must be at least 1"),
        ({"JOB_LEASE_SECONDS": "nan"}, "JOB_LEASE_SECONDS must be a finite number"),
    ],
)
def test_a_bad_setting_stops_the_start_naming_the_variable(tmp_path, env, message):
    done = start_with(tmp_path, **env)
    assert done.returncode != 0
    assert "SettingError" in done.stderr and message in done.stderr, done.stderr[-2000:]
