"""Commands that act on the server's data refuse a database the server never set up.

A shell whose DATA_DIR (or DATABASE_URL) differs from the server's would otherwise create
a second, empty database beside it, and a token made there works nowhere.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder


def require_platform_database() -> None:
    db = connection.settings_dict
    sqlite = db["ENGINE"].endswith("sqlite3")
    where = f"{db['NAME']} (DATA_DIR={settings.DATA_DIR})" if sqlite else f"the database {db['NAME']!r} of DATABASE_URL"
    # Connecting to SQLite would create the file: look for it first.
    missing = sqlite and not Path(db["NAME"]).is_file()
    if missing or not MigrationRecorder(connection).has_table():
        raise CommandError(
            f"no platform database at {where}: `make run` (manage.py serve) creates it. Run this command "
            "with the same DATA_DIR (or DATABASE_URL) as the server."
        )
