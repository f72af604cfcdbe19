"""How many optimizer steps an epoch makes. Pure Python: the platform counts a run's steps
at submission without loading torch."""
from __future__ import annotations

import math


def items_kept(num_items: int, batch_size: int) -> int:
    """An epoch's last item is left out when it would be a batch on its own: BatchNorm cannot
    train on one image whose last maps are 1x1, and one image is a poor estimate anyway."""
    return num_items - 1 if batch_size > 1 and num_items % batch_size == 1 else num_items


def steps_per_epoch(num_items: int, batch_size: int, drop_last: bool) -> int:
    if drop_last:
        return num_items // batch_size
    return math.ceil(items_kept(num_items, batch_size) / batch_size)
