"""Dataset formats by name (the platform's `Dataset.format` values)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .limits import ImportLimits

# build(root, files, limits) -> manifest; `files` are the extracted files' sorted relative paths.
BuildManifest = Callable[[Path, list[str], ImportLimits], dict[str, Any]]


@dataclass(frozen=True)
class DatasetFormat:
    name: str
    task: str
    build_manifest: BuildManifest


FORMATS: dict[str, DatasetFormat] = {}


def register_format(name: str, task: str) -> Callable[[BuildManifest], BuildManifest]:
    def register(build: BuildManifest) -> BuildManifest:
        if name in FORMATS:
            raise ValueError(f"dataset format {name!r} is already registered")
        FORMATS[name] = DatasetFormat(name=name, task=task, build_manifest=build)
        return build

    return register
