"""Safe, streaming extraction of an uploaded zip archive.

Every member is checked before anything is written (names, types, compression, declared
sizes), then copied in 256 KiB chunks while the bytes actually produced are counted: the
headers of a hostile archive may lie, the decompressor's output cannot. Memory use
does not depend on the size of the archive or of any member.

The checks of the central directory (`read_central_directory`) also run at upload
(`check_archive`), so an archive whose table of contents already shows the problem is
refused then, not found bad later in the worker.
"""
from __future__ import annotations

import errno
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .errors import DatasetImportError
from .limits import ImportLimits
from .paths import common_root_depth, is_junk, safe_member_parts

CHUNK_BYTES = 256 * 1024
# What zipfile decompresses; Deflate64 (9), PPMd (98), ... raise NotImplementedError when read.
READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})


@dataclass(frozen=True)
class Member:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]


def extract_archive(
    archive_path: Path, target: Path, limits: ImportLimits, keep_roots: frozenset[str] = frozenset()
) -> list[str]:
    """Extract the archive's useful files into `target`; return their sorted relative paths.

    Junk (__MACOSX/, .DS_Store, Thumbs.db, dot-files) is skipped, and a single folder
    wrapping everything is stripped unless its name is in `keep_roots` (loose non-image
    files beside that folder, like a README, are then skipped too).
    """
    with open_archive(archive_path) as archive:
        members = read_central_directory(archive, limits)
        depth = common_root_depth([m.parts for m in members], keep_roots)
        written = _Budget(limits)
        paths = []
        for member in members:
            if len(member.parts) <= depth:
                continue  # a loose file outside the stripped wrapper folder
            relative = "/".join(member.parts[depth:])
            _copy_member(archive, member.info, target / relative, written)
            paths.append(relative)
    return sorted(paths)


def check_archive(archive_path: Path, limits: ImportLimits) -> None:
    """Raises DatasetImportError for any problem the archive's central directory shows,
    reading nothing else: what an upload runs before anything is stored."""
    with open_archive(archive_path) as archive:
        read_central_directory(archive, limits)


def open_archive(archive_path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise DatasetImportError(f"the upload is not a readable zip archive ({exc})") from exc


def read_central_directory(archive: zipfile.ZipFile, limits: ImportLimits) -> list[Member]:
    """The members worth extracting, once every entry passed the checks its directory
    record allows: names (absolute, `..`, drive letters, ...), symbolic links, encryption,
    compression method, member count, declared sizes and compression ratios, duplicates.
    Upload and import both call this; junk with a zip's tail reads as an empty archive."""
    infos = archive.infolist()
    if not infos:
        raise DatasetImportError("the upload is an empty zip archive")
    if len(infos) > limits.max_files:
        raise DatasetImportError(f"the archive has {len(infos)} members; the limit is {limits.max_files}")
    members, declared_total = [], 0
    for info in infos:
        parts = safe_member_parts(info.filename)
        _check_readable(info)
        if info.is_dir() or not parts or is_junk(parts):
            continue
        _check_declared_size(info, limits)
        declared_total += info.file_size
        if declared_total > limits.max_uncompressed_bytes:
            raise DatasetImportError(
                f"the archive expands to more than {limits.max_uncompressed_bytes} bytes (the limit)"
            )
        members.append(Member(info, parts))
    _check_unique(members)
    return members


def _check_readable(info: zipfile.ZipInfo) -> None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise DatasetImportError(f"{info.filename}: symbolic links are not allowed in the archive")
    if info.flag_bits & 0x1:
        raise DatasetImportError(f"{info.filename}: encrypted members are not supported")
    if info.compress_type not in READABLE_METHODS:
        method = zipfile.compressor_names.get(info.compress_type, "unknown")
        raise DatasetImportError(
            f"{info.filename}: compressed with method {info.compress_type} ({method}), which cannot be read; "
            "make the zip with Deflate"
        )


def _check_declared_size(info: zipfile.ZipInfo, limits: ImportLimits) -> None:
    if info.file_size > limits.max_member_bytes:
        raise DatasetImportError(
            f"{info.filename}: {info.file_size} bytes uncompressed; the limit per file is {limits.max_member_bytes}"
        )
    if _ratio_exceeded(info.file_size, info.compress_size, limits):
        raise DatasetImportError(
            f"{info.filename}: compression ratio above {limits.max_compression_ratio} (possible zip bomb)"
        )


def _ratio_exceeded(uncompressed: int, compressed: int, limits: ImportLimits) -> bool:
    if uncompressed <= limits.ratio_check_min_bytes:
        return False
    return uncompressed > limits.max_compression_ratio * max(compressed, 1)


def _check_unique(members: list[Member]) -> None:
    """Two members for one path (or a file where a folder is needed) would overwrite each other."""
    files = set()
    for member in members:
        key = "/".join(member.parts)
        if key in files:
            raise DatasetImportError(f"{member.info.filename}: the archive holds this path twice")
        files.add(key)
    for member in members:
        for i in range(1, len(member.parts)):
            prefix = "/".join(member.parts[:i])
            if prefix in files:
                raise DatasetImportError(f"{prefix}: is both a file and a folder in the archive")


class _Budget:
    """Counts bytes actually written against the total limit."""

    def __init__(self, limits: ImportLimits):
        self.limits = limits
        self.total = 0

    def add(self, name: str, member_bytes: int, compressed: int, n: int) -> None:
        self.total += n
        limits = self.limits
        if self.total > limits.max_uncompressed_bytes:
            raise DatasetImportError(
                f"{name}: the archive expands to more than {limits.max_uncompressed_bytes} bytes (the limit)"
            )
        if member_bytes > limits.max_member_bytes:
            raise DatasetImportError(f"{name}: larger than the limit of {limits.max_member_bytes} bytes per file")
        if _ratio_exceeded(member_bytes, compressed, limits):
            raise DatasetImportError(
                f"{name}: compression ratio above {limits.max_compression_ratio} (possible zip bomb)"
            )


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: _Budget) -> None:
    name = info.filename
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)  # a folder name can be too long as well
        with archive.open(info) as src, open(dest, "xb") as out:
            member_bytes = 0
            while True:
                chunk = src.read(CHUNK_BYTES)
                if not chunk:
                    break
                member_bytes += len(chunk)
                budget.add(name, member_bytes, info.compress_size, len(chunk))
                out.write(chunk)
                del chunk  # so the next read does not hold two chunks at once
    except zipfile.BadZipFile as exc:  # bad CRC-32, truncated data, bad local header
        raise DatasetImportError(f"{name}: corrupt zip member ({exc})") from exc
    except (zlib.error, EOFError) as exc:
        raise DatasetImportError(f"{name}: corrupt compressed data ({exc})") from exc
    except NotImplementedError as exc:
        raise DatasetImportError(f"{name}: unsupported zip compression ({exc})") from exc
    except RuntimeError as exc:  # encrypted without the flag we checked
        raise DatasetImportError(f"{name}: cannot be read ({exc})") from exc
    except OSError as exc:
        if exc.errno in (errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL):
            raise DatasetImportError(f"{name}: this file name cannot be stored ({exc.strerror})") from exc
        raise
