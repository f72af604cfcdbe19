"""Canonical split names and the deterministic train/valid split of unsplit data."""
from __future__ import annotations

import hashlib

from .errors import DatasetImportError

CANONICAL_ORDER = ("train", "valid", "test")
SPLIT_ALIASES = {"train": "train", "valid": "valid", "val": "valid", "validation": "valid", "test": "test"}
REQUIRED_SPLITS = ("train", "valid")
VALID_FRACTION = 0.2


def canonical_split(name: str) -> str | None:
    return SPLIT_ALIASES.get(name.lower())


def map_split_folders(names: set[str], where: str = "the archive root") -> dict[str, str]:
    """{canonical split: folder name}; two folders for one split (val/ and valid/) is an error."""
    found: dict[str, str] = {}
    for name in sorted(names):
        split = canonical_split(name)
        if split is None:
            continue
        if split in found:
            raise DatasetImportError(
                f"both '{found[split]}' and '{name}' folders at {where}: they are the same split '{split}'"
            )
        found[split] = name
    return found



def export_split_folders(files: list[str], export_name: str) -> dict[str, str]:
    """{canonical split: folder} for exports whose root holds only split folders."""
    tops = {path.split("/", 1)[0] for path in files if "/" in path}
    folders = map_split_folders(tops)
    strays = sorted(tops - set(folders.values()))
    if strays:
        raise DatasetImportError(
            f"unexpected folder '{strays[0]}/': a {export_name} export holds only train/, valid/ and test/ folders"
        )
    return folders

def require_splits(present: set[str], what: str) -> None:
    missing = [s for s in REQUIRED_SPLITS if s not in present]
    if missing:
        aliases = {"train": "train", "valid": "valid, val or validation"}
        raise DatasetImportError(
            f"{what}: missing split {', '.join(repr(s) + ' (' + aliases[s] + ')' for s in missing)}"
        )


def ordered(splits: dict) -> dict:
    return {name: splits[name] for name in CANONICAL_ORDER if name in splits}


def split_train_valid(paths: list[str]) -> tuple[list[str], list[str]]:
    """Split one class's images ~80/20 into (train, valid), deterministically.

    Images are ranked by the SHA-256 of their relative path (independent of member order
    and of Python's hash seed); the first round(20%) go to valid, clamped so that a class
    with two or more images has at least one image in each split. A single image trains.
    """
    ranked = sorted(paths, key=lambda p: hashlib.sha256(p.encode("utf-8")).hexdigest())
    if len(ranked) < 2:
        return ranked, []
    n_valid = min(max(round(len(ranked) * VALID_FRACTION), 1), len(ranked) - 1)
    valid = sorted(ranked[:n_valid])
    train = sorted(ranked[n_valid:])
    return train, valid
