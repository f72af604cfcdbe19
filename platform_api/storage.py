"""Where uploaded archives, imported datasets, weights and model artifacts live.

`local` keeps everything under STORAGE_LOCAL_ROOT; `s3` keeps it in a bucket (boto3) and
materialises what a worker or web server needs in a local cache, once.
Keys are '/'-separated relative paths such as "datasets/7/content".
"""
from __future__ import annotations

import shutil
import threading
from functools import lru_cache
from pathlib import Path, PurePosixPath

from django.conf import settings


def _check_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or ".." in parts:
        raise ValueError(f"invalid storage key {key!r}")
    return key.strip("/")


def _unless_already_gone(function, path, exc_info) -> None:
    """rmtree's error hook: a file or folder removed by someone else meanwhile is fine."""
    if not issubclass(exc_info[0], FileNotFoundError):
        raise exc_info[1]


class LocalStorage:
    is_remote = False

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def save_file(self, key: str, src: Path, move: bool = False) -> None:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".partial")
        (shutil.move if move else shutil.copyfile)(src, tmp)
        tmp.replace(dest)

    def save_dir(self, src_dir: Path, prefix: str, move: bool = False) -> None:
        dest = self.path(prefix)
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if move:
            shutil.move(str(src_dir), dest)
        else:
            shutil.copytree(src_dir, dest)

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def download(self, key: str, dest: Path) -> None:
        """A fresh copy of the file at `dest` (no cache: for keys that change)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.local_file(key), dest)

    def local_file(self, key: str) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(f"storage has no file {key!r}")
        return path

    def local_dir(self, prefix: str) -> Path:
        path = self.path(prefix)
        if not path.is_dir():
            raise FileNotFoundError(f"storage has no folder {prefix!r}")
        return path

    def delete(self, key: str) -> None:
        """Removes the file or folder; what is already gone (another delete of the same key
        running meanwhile, a retry) is not an error."""
        path = self.path(key)
        if path.is_dir():
            shutil.rmtree(path, onerror=_unless_already_gone)
        else:
            path.unlink(missing_ok=True)


class S3Storage:
    """Objects under s3://bucket/prefix/<key>; local copies cached under `cache_dir`."""

    is_remote = True

    def __init__(self, bucket: str, prefix: str, cache_dir: Path, endpoint_url: str | None = None):
        import boto3

        if not bucket:
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.cache_dir = Path(cache_dir)
        self.client = boto3.client("s3", endpoint_url=endpoint_url)
        self._lock = threading.Lock()

    def _object_key(self, key: str) -> str:
        key = _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def save_file(self, key: str, src: Path, move: bool = False) -> None:
        self.client.upload_file(str(src), self.bucket, self._object_key(key))
        if move:
            Path(src).unlink()

    def save_dir(self, src_dir: Path, prefix: str, move: bool = False) -> None:
        src_dir = Path(src_dir)
        for path in sorted(p for p in src_dir.rglob("*") if p.is_file()):
            self.save_file(f"{_check_key(prefix)}/{path.relative_to(src_dir).as_posix()}", path)
        if move:
            shutil.rmtree(src_dir)

    def _objects(self, key: str):
        """The object named `key` and every object in the folder `key/`, never `key10/...`."""
        object_key = self._object_key(key)
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=object_key):
            for obj in page.get("Contents", []):
                if obj["Key"] == object_key or obj["Key"].startswith(object_key + "/"):
                    yield obj

    def exists(self, key: str) -> bool:
        return next(self._objects(key), None) is not None

    def download(self, key: str, dest: Path) -> None:
        """A fresh copy of the object at `dest`, bypassing the cache (for keys that change)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".partial")
        self.client.download_file(self.bucket, self._object_key(key), str(tmp))
        tmp.replace(dest)

    def local_file(self, key: str) -> Path:
        dest = self.cache_dir / _check_key(key)
        with self._lock:
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = dest.with_name(dest.name + ".partial")
                try:
                    self.client.download_file(self.bucket, self._object_key(key), str(tmp))
                except self.client.exceptions.ClientError as exc:
                    raise FileNotFoundError(f"storage has no file {key!r}") from exc
                tmp.replace(dest)
        return dest

    def local_dir(self, prefix: str) -> Path:
        """Downloads the whole folder once; a marker file says the copy is complete."""
        dest = self.cache_dir / _check_key(prefix)
        marker = dest / ".complete"
        with self._lock:
            if marker.exists():
                return dest
            object_prefix = self._object_key(prefix) + "/"
            found = False
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=object_prefix):
                for obj in page.get("Contents", []):
                    found = True
                    target = dest / obj["Key"][len(object_prefix):]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self.client.download_file(self.bucket, obj["Key"], str(target))
            if not found:
                raise FileNotFoundError(f"storage has no folder {prefix!r}")
            marker.touch()
        return dest

    def delete(self, key: str) -> None:
        """Removes the object or folder and its cached copy; objects already gone are fine
        (S3 answers 204 for them, some S3-compatible stores 404 NoSuchKey)."""
        for obj in list(self._objects(key)):
            try:
                self.client.delete_object(Bucket=self.bucket, Key=obj["Key"])
            except self.client.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                    raise
        cached = self.cache_dir / _check_key(key)
        shutil.rmtree(cached, ignore_errors=True) if cached.is_dir() else cached.unlink(missing_ok=True)


@lru_cache(maxsize=1)
def get_storage() -> LocalStorage | S3Storage:
    if settings.STORAGE_BACKEND == "local":
        return LocalStorage(settings.STORAGE_LOCAL_ROOT)
    if settings.STORAGE_BACKEND == "s3":
        return S3Storage(settings.S3_BUCKET, settings.S3_PREFIX, settings.DATA_DIR / "s3-cache", settings.S3_ENDPOINT_URL)
    raise ValueError(f"STORAGE_BACKEND must be 'local' or 's3', got {settings.STORAGE_BACKEND!r}")
