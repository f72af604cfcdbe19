"""A worker's background passes (recovery, the study driver, the device announcement): each
runs in a thread of its own from worker start to shutdown, once at start and then every few
seconds, on a fresh database connection each time (the database may have restarted since);
a pass that fails is logged and the next one tries again."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from django.db import close_old_connections, connection

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, interval: Callable[[], float], run_pass: Callable[[], None]):
        self.name, self.interval, self.run_pass = name, interval, run_pass
        self._stop = threading.Event()

    def start(self) -> None:
        self._stop.clear()
        threading.Thread(target=self._loop, name=self.name, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while True:
            try:
                close_old_connections()
                self.run_pass()
            except Exception:
                log.exception("%s pass failed; the next one tries again", self.name)
            finally:
                connection.close()
            if self._stop.wait(self.interval()):
                return
