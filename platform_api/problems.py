"""What a service raises when it refuses: the one vocabulary every front maps to its answer.

The REST API's exception handler (platform_api/http/errors.py) turns `Invalid` into
`{field: [messages]}` with its status and `Conflict` into `{"detail", "code"}` with 409;
views never build error bodies themselves.
"""
from __future__ import annotations


class Invalid(Exception):
    """Input the service refuses; `errors` maps request fields to lists of messages."""

    status = 400

    def __init__(self, errors: dict, status: int | None = None):
        super().__init__(str(errors))
        self.errors = errors
        if status is not None:
            self.status = status


class Conflict(Exception):
    """The object's state forbids the request (it has ended, is busy, is used)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class Unavailable(Exception):
    """The service is busy now (a full queue); the client may retry after `retry_after` seconds."""

    def __init__(self, message: str, code: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = max(1, int(retry_after))


class ClientGone(Exception):
    """The client closed its connection before its answer was ready: nobody reads the reply."""


class InUse(Conflict):
    """Kept by the objects that still refer to it: a delete that Django's ProtectedError
    refused, named by those objects."""

    def __init__(self, what: str, error, advice: str, code: str, kinds: str = ""):
        users = ", ".join(sorted({str(obj) for obj in error.protected_objects}))
        super().__init__(f"{what} is still used by {f'{kinds}: ' if kinds else ''}{users}; {advice}", code)
