"""Archive member names: safety checks, junk detection, and the common root folder."""
from __future__ import annotations

import re

from .errors import DatasetImportError
from .images import is_image_path

_DRIVE = re.compile(r"^[A-Za-z]:")
JUNK_NAMES = {"__MACOSX", "Thumbs.db", "desktop.ini"}


def safe_member_parts(name: str) -> tuple[str, ...]:
    """The member's path components, or DatasetImportError if it could escape the target.

    Backslashes count as separators (Windows tools write them), so "..\\x" is caught
    like "../x". Rejected: absolute paths, drive letters ("C:x", "C:\\x"), UNC paths,
    ".." components, NUL bytes and ":" (NTFS streams). "." components are dropped.
    """
    unified = name.replace("\\", "/")
    if "\x00" in unified:
        raise DatasetImportError(f"{name!r}: unsafe path in archive (NUL byte)")
    if unified.startswith("/") or _DRIVE.match(unified):
        raise DatasetImportError(f"{name!r}: unsafe path in archive (absolute path)")
    parts = tuple(p for p in unified.split("/") if p not in ("", "."))
    if ".." in parts:
        raise DatasetImportError(f"{name!r}: unsafe path in archive (path traversal '..')")
    if any(":" in p for p in parts):
        raise DatasetImportError(f"{name!r}: unsafe path in archive (':' in a path component)")
    return parts


def is_junk(parts: tuple[str, ...]) -> bool:
    """OS litter (macOS resource forks, Finder/Explorer files) and hidden dot-files."""
    return any(p in JUNK_NAMES or p.startswith(".") for p in parts)


def common_root_depth(file_parts: list[tuple[str, ...]], keep: frozenset[str]) -> int:
    """How many leading wrapper folders to strip ("mydata/train/..." -> 1).

    A wrapper is stripped while every file below it sits in one single folder whose name
    is not meaningful (`keep`: the split names), so an archive holding only "train/"
    keeps its split folder. Loose non-image files next to the wrapper (README.txt) do
    not prevent stripping; the caller skips them.
    """
    depth = 0
    while True:
        deeper = [p for p in file_parts if len(p) > depth + 1]
        loose_images = any(len(p) == depth + 1 and is_image_path(p[-1]) for p in file_parts)
        tops = {p[depth] for p in deeper}
        if loose_images or len(tops) != 1 or next(iter(tops)).lower() in keep:
            return depth
        file_parts = deeper
        depth += 1
