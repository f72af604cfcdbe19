"""A predict request's own options (trainers.export.PREDICT_OPTIONS: threshold, mask_threshold,
top_k), from the JSON body, the multipart form or the query string, checked like any input:
a bad value is refused with its reason, and so is an option the deployed model does not take."""
from __future__ import annotations

import math
from typing import Any

from platform_api.problems import Invalid
from trainers.export import PREDICT_OPTIONS, TUNED


def read_options(body: Any, query: Any) -> dict[str, float | int]:
    """The options a request sets. Each value given is checked, in the query and in the body;
    where both give one, the body's wins."""
    options, errors = {}, {}
    for name, (kind, minimum, maximum) in PREDICT_OPTIONS.items():
        for source in (query, body):  # the body last: it wins
            if not hasattr(source, "get") or name not in source:
                continue
            raw = source.get(name)
            if name == "threshold" and raw == TUNED:
                options[name] = TUNED
                continue
            value = _number(raw, kind)
            if value is None or not minimum <= value <= maximum:
                what = "a whole number" if kind is int else "a number"
                tuned = f' or "{TUNED}"' if name == "threshold" else ""
                errors.setdefault(name, []).append(f"must be {what} from {minimum:g} to {maximum:g}{tuned}, got {raw!r}")
            else:
                options[name] = value
    if errors:
        raise Invalid(errors)
    return options


def _number(raw: Any, kind: type) -> float | int | None:
    if isinstance(raw, bool):
        return None
    try:
        value = float(raw) if isinstance(raw, (str, int, float)) else None
    except ValueError:
        return None
    if value is None or not math.isfinite(value) or (kind is int and not value.is_integer()):
        return None
    return kind(value)


def check_applies(options: dict[str, Any], exportable: Any, trainer: str) -> None:
    """Refuses options the model's family does not take (its Exportable's prediction_options),
    and threshold "tuned" for a model whose evaluation tuned no per-class thresholds."""
    taken = exportable.prediction_options
    extra = sorted(set(options) - set(taken))
    if extra:
        raise Invalid({name: [f"this model ({trainer}) takes no {name}; it takes {', '.join(sorted(taken))}"]
                       for name in extra})
    if options.get("threshold") == TUNED and getattr(exportable, "tuned_thresholds", None) is None:
        raise Invalid({"threshold": [f'this model ({trainer}) has no tuned thresholds: a multi-label model has them '
                                     "from the evaluation report its job made; give a number"]})
