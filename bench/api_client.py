"""A small REST client of the platform's /api/v1 for the benchmarks and the fault suite:
standard library only, so it runs beside a server without touching its process."""
from __future__ import annotations

import json
import time
import urllib.request
import uuid
from pathlib import Path


class Api:
    def __init__(self, port: int, token: str):
        self.base, self.headers = f"http://127.0.0.1:{port}/api/v1", {"Authorization": f"Token {token}"}

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> dict:
        headers = dict(self.headers, **({"Content-Type": content_type} if content_type else {}))
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def upload(self, archive: Path, name: str) -> dict:
        """POST /datasets/ with a classification-folder zip, as multipart."""
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
                 for key, value in (("name", name), ("format", "classification_folder"))]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; filename="{archive.name}"\r\n'
                     f"Content-Type: application/zip\r\n\r\n".encode() + archive.read_bytes() + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.call("POST", "/datasets/", b"".join(parts), f"multipart/form-data; boundary={boundary}")

    def wait(self, path: str, done, timeout: float = 3600, interval: float = 0.1) -> dict:
        """GET `path` until `done(body)`; its body."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.call("GET", path)
            if done(body):
                return body
            time.sleep(interval)
        raise TimeoutError(path)
