"""Browser assets that registry packages ship outside a `static/` folder, served like any
static file (collectstatic, whitenoise): nothing is fetched from a CDN.

Only the files named here are exposed, not the rest of the package's data.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

# static path -> (package, file inside the package)
PACKAGE_FILES = {
    "console/vendor/plotly.min.js": ("plotly", "package_data/plotly.min.js"),
}


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise LookupError(f"package {package!r} is not installed (requirements.txt pins it)")
    return Path(spec.origin).parent


class PackageFileFinder(BaseFinder):
    def _source(self, path: str) -> Path | None:
        if path not in PACKAGE_FILES:
            return None
        package, inside = PACKAGE_FILES[path]
        return _package_dir(package) / inside

    def find(self, path, find_all=False, **kwargs):
        source = self._source(path)
        found = str(source) if source is not None and source.is_file() else None
        if find_all:
            return [found] if found else []
        return found

    def list(self, ignore_patterns):
        for path in PACKAGE_FILES:
            source = self._source(path)
            storage = FileSystemStorage(location=str(source.parent))
            storage.prefix = str(Path(path).parent)  # collectstatic writes it under this folder
            yield source.name, storage

    def check(self, **kwargs):
        return []
