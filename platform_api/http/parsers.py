"""The API's JSON parser: DRF's, plus a bound on nesting and no infinite numbers.

Python's decoder recurses once per level: 5,000 `[` end in a RecursionError (a 500), and
a few hundred levels that do parse can still overflow the stack in whatever walks the
value later. No request of this API nests deeper than a handful of levels, so anything
past MAX_DEPTH is a 400. DRF already refuses the NaN/Infinity literals; `1e999` still
decodes to inf, which no stored number may be.
"""
from __future__ import annotations

import codecs
import json
import math

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 64


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})  # DRF's: refuses decompressing codecs
        try:
            document = json.load(codecs.getreader(encoding)(stream), parse_float=finite_float,
                                 parse_constant=json_constant)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if nesting_depth(document) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep")
        return document


def finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range (numbers must be finite)")
    return value


def json_constant(name: str):
    raise ValueError(f"{name} is not a JSON number (numbers must be finite)")


def nesting_depth(document) -> int:
    """How many arrays and objects deep the value goes (a scalar is 0), without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest
