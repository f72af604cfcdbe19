"""An archive whose central directory already shows the problem is refused at upload with
a 400 naming it, and nothing is kept: no dataset row, no stored file, nothing queued (it
used to be a 201 and a dataset that failed later in the worker)."""
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from platform_api.datasets.models import Dataset
from tests.factories import classification_zip
from tests.platform.flows import upload_dataset

pytestmark = pytest.mark.django_db


def add_member(path: Path, name: str, data: bytes = b"x", **info) -> Path:
    member = zipfile.ZipInfo(name)
    for key, value in info.items():
        setattr(member, key, value)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def patch_central_directory(path: Path, name: str, offset: int, fmt: str, value: int) -> Path:
    """Overwrites one field of `name`'s central directory record (its name starts at +46)."""
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")
    while not data[entry + 46:].startswith(name.encode()):
        entry = data.index(b"PK\x01\x02", entry + 4)
    if fmt == "|":
        data[entry + offset] |= value
    else:
        struct.pack_into(fmt, data, entry + offset, value)
    path.write_bytes(bytes(data))
    return path


def zip_slip(path):
    return add_member(classification_zip(path), "../../evil.png")


def absolute_path(path):
    return add_member(classification_zip(path), "/etc/cron.d/evil")


def symlink(path):
    return add_member(classification_zip(path), "train/red/passwd.png", b"/etc/passwd", create_system=3,
                      external_attr=(stat.S_IFLNK | 0o777) << 16)


def zip_bomb(path):
    return add_member(classification_zip(path), "train/red/bomb.bmp", b"\0" * (2 * 1024 * 1024))


def encrypted(path):
    return patch_central_directory(classification_zip(path), "train/red/0.png", 8, "|", 0x1)


def deflate64(path):
    return patch_central_directory(classification_zip(path), "train/red/0.png", 10, "<H", 9)


def duplicate_name(path):
    with pytest.warns(UserWarning, match="Duplicate name"):
        return add_member(classification_zip(path), "train/red/0.png")


def not_a_zip(path):
    path.write_bytes(b"a tarball, honest")
    return path


ARCHIVES = {
    "zip-slip": (zip_slip, "'../../evil.png': unsafe path in archive (path traversal '..')"),
    "absolute-path": (absolute_path, "'/etc/cron.d/evil': unsafe path in archive (absolute path)"),
    "symlink": (symlink, "train/red/passwd.png: symbolic links are not allowed"),
    "zip-bomb": (zip_bomb, "train/red/bomb.bmp: compression ratio above 200 (possible zip bomb)"),
    "encrypted": (encrypted, "train/red/0.png: encrypted members are not supported"),
    "deflate64": (deflate64, "train/red/0.png: compressed with method 9 (deflate64), which cannot be read"),
    "duplicate-name": (duplicate_name, "train/red/0.png: the archive holds this path twice"),
    "not-a-zip": (not_a_zip, "not a readable zip archive"),
}


def assert_nothing_kept():
    assert Dataset.objects.count() == 0
    assert [p for p in Path(settings.STORAGE_LOCAL_ROOT).rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("make, message", ARCHIVES.values(), ids=ARCHIVES.keys())
def test_it_refuses_at_upload_an_archive_whose_directory_shows_the_problem(api, tmp_path, make, message,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = upload_dataset(api, make(tmp_path / "d.zip"))
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["archive"] and message in response.json()["archive"][0]
    assert_nothing_kept()
    assert queued == []


def test_it_refuses_at_upload_an_archive_with_more_entries_than_the_limit(api, tmp_path, settings):
    settings.MAX_DATASET_FILES = 10  # the archive has 24 images
    response = upload_dataset(api, classification_zip(tmp_path / "d.zip"))
    assert response.status_code == 400
    assert response.json()["archive"] == ["the archive has 24 members; the limit is 10"]
    assert_nothing_kept()


def test_it_refuses_at_upload_an_archive_declaring_more_bytes_than_the_limit(api, tmp_path, settings):
    settings.MAX_DATASET_UNCOMPRESSED_BYTES = 10_000
    response = upload_dataset(api, classification_zip(tmp_path / "d.zip"))
    assert response.status_code == 400
    assert response.json()["archive"] == ["the archive expands to more than 10000 bytes (the limit)"]
    assert_nothing_kept()
