"""What a web process remembers for a few seconds instead of asking the database again.

Each entry expires `seconds()` after it was put (read at each put, so a setting changed in a
test takes effect); with `seconds() <= 0` nothing is kept. Memory stays bounded: past
`max_entries`, expired entries go, then all. Safe across request threads: every operation is
a single dict operation, or a pass over a copy of the entries (copying is atomic).
"""
from __future__ import annotations

import time
from typing import Any, Callable, Hashable

MAX_ENTRIES = 10_000


def _now() -> float:
    """The clock entries expire by (tests move it, without moving every other clock)."""
    return time.monotonic()


class TtlCache:
    def __init__(self, seconds: Callable[[], float], max_entries: int = MAX_ENTRIES):
        self._seconds = seconds
        self._max_entries = max_entries
        self._entries: dict[Hashable, tuple[Any, float]] = {}  # key -> (value, expiry on the monotonic clock)

    def get(self, key: Hashable) -> Any | None:
        """The value kept under `key`, or None if there is none or it expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] > _now():
            return entry[0]
        self._entries.pop(key, None)
        return None

    def put(self, key: Hashable, value: Any) -> None:
        seconds = self._seconds()
        if seconds <= 0:
            return
        now = _now()
        if len(self._entries) >= self._max_entries:
            for stale in [k for k, (_, expiry) in self._entries.copy().items() if expiry <= now]:
                self._entries.pop(stale, None)
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
        self._entries[key] = (value, now + seconds)

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def forget_where(self, matches: Callable[[Hashable, Any], bool]) -> None:
        """Forgets every entry for which `matches(key, value)`."""
        for key, (value, _) in self._entries.copy().items():
            if matches(key, value):
                self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
