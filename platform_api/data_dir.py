"""The server's state directory (DATA_DIR), made by the commands that start the platform
(`serve`, and the WSGI entry point) and by nothing else: a command that refuses, or one run
with another DATA_DIR by mistake, leaves no tree behind."""
from __future__ import annotations

import os
from pathlib import Path

SUBDIRECTORIES = ("broker/queue", "broker/processed", "broker/control", "storage", "tmp", "work", "static")
SECRET_KEY_FILE = "secret_key"


def secret_key(data_dir: Path, configured: str, generate) -> str:
    """SECRET_KEY from the environment, else the one kept in DATA_DIR, else a new one that
    create_data_dir keeps (read at settings time, so nothing is written then)."""
    if configured:
        return configured
    key_file = data_dir / SECRET_KEY_FILE
    return key_file.read_text().strip() if key_file.is_file() else generate()


def create_data_dir(data_dir: Path, secret_key_in_use: str) -> None:
    """Makes DATA_DIR's folders and keeps this process's generated secret key (settings'
    SECRET_KEY), so sessions survive a restart. Idempotent."""
    data_dir = Path(data_dir)
    for sub in SUBDIRECTORIES:
        (data_dir / sub).mkdir(parents=True, exist_ok=True)
    key_file = data_dir / SECRET_KEY_FILE
    if not os.environ.get("SECRET_KEY") and not key_file.exists():
        key_file.write_text(secret_key_in_use)
        key_file.chmod(0o600)
