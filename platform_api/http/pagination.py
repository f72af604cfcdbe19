"""List pages: `?limit=` and `?offset=`, refused with a 400 when they are not what the schema says.

DRF's LimitOffsetPagination quietly ignores what it cannot read (`?offset=null`,
`?limit=-1`, `?limit=abc` all list the default page), so a client's typo passes unseen.
Here each must be a whole number in range, or the answer is
`400 {"limit": ["must be a whole number from 1 to 1000, got '-1'"]}`.
"""
from __future__ import annotations

import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_LIMIT = 1000  # a page never holds more rows; past this, a limit is refused, not cut
MAX_OFFSET = 2**63 - 1  # the largest row number a database counts to
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII digits only (int() also takes " 5", "+5", "٥")


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return _whole_number(request, self.limit_query_param, 1, self.max_limit, self.default_limit)

    def get_offset(self, request) -> int:
        return _whole_number(request, self.offset_query_param, 0, MAX_OFFSET, 0)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
                  self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET}}
        for parameter in parameters:
            parameter["schema"].update(bounds[parameter["name"]])
        return parameters


def _whole_number(request, name: str, low: int, high: int, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = int(raw) if _DIGITS.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        raise ValidationError({name: [f"must be a whole number from {low} to {high}, got {raw!r}"]})
    return value
