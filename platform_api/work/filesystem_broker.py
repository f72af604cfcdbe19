"""kombu's file-system transport (the embedded broker, `filesystem://`) with whole messages.

kombu 5.7 creates a message file under its final name and only then writes it, so a worker
polling at that moment can take the file empty: its JSON fails to parse and the worker dies
("Unrecoverable error: JSONDecodeError", seen in CI with a job that then never ran). Here a
message is written under a name no consumer takes and renamed into place, which is atomic;
and a file that still cannot be read is dropped with a log line instead of killing the worker.
platform_api/celery.py makes `filesystem://` mean this transport.
"""
from __future__ import annotations

import logging
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

log = logging.getLogger(__name__)

# Consumers take only files named "<stamp>_<uuid>.<queue>.msg"; this suffix hides a file being written.
PARTIAL = ".partial"


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `serve` makes DATA_DIR's folders (platform_api/data_dir.py); a process that queues
        # work without it (a command, a test's web process) makes the broker's own here.
        for folder in (self.data_folder_in, self.data_folder_out, self.control_folder, self.processed_folder):
            os.makedirs(folder, exist_ok=True)

    def _put(self, queue, payload, **kwargs):
        # kombu's own file name, so messages keep its order (by time, then name).
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            try:
                os.remove(partial)
            except OSError:
                pass
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        while True:  # ends with the next whole message, or Empty
            try:
                return super()._get(queue)
            except ValueError as exc:  # kombu removed the file before parsing it
                log.error("dropped an unreadable message file from queue %s: %s", queue, exc)


class Transport(filesystem.Transport):
    Channel = Channel
