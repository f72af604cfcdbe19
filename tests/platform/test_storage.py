"""Both storage backends keep files and folders; S3 runs against moto's in-process fake."""
import boto3
import pytest
from moto import mock_aws

from platform_api.storage import LocalStorage, S3Storage


@pytest.fixture
def s3_storage(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="models")
        yield S3Storage("models", "platform", tmp_path / "cache")


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "root")
    return request.getfixturevalue("s3_storage")


def make_tree(root):
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.bin").write_bytes(b"\x00\x01beta")
    return root


def test_a_saved_file_comes_back_with_its_bytes(storage, tmp_path):
    src = tmp_path / "w.pt"
    src.write_bytes(b"weights")
    storage.save_file("weights/1.pt", src)
    assert storage.exists("weights/1.pt")
    assert storage.local_file("weights/1.pt").read_bytes() == b"weights"


def test_a_saved_folder_comes_back_whole(storage, tmp_path):
    storage.save_dir(make_tree(tmp_path / "artifact"), "models/job-1")
    local = storage.local_dir("models/job-1")
    assert (local / "a.txt").read_text() == "alpha"
    assert (local / "sub" / "b.bin").read_bytes() == b"\x00\x01beta"


def test_missing_keys_raise_file_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.local_file("nope/file")
    with pytest.raises(FileNotFoundError):
        storage.local_dir("nope")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a/../../b", ""])
def test_it_refuses_keys_that_leave_the_storage(storage, tmp_path, key):
    src = tmp_path / "x"
    src.write_text("x")
    with pytest.raises(ValueError):
        storage.save_file(key, src)


def test_s3_downloads_a_folder_once_and_serves_it_from_the_cache(s3_storage, tmp_path):
    s3_storage.save_dir(make_tree(tmp_path / "artifact"), "models/job-2")
    first = s3_storage.local_dir("models/job-2")
    s3_storage.client = None  # any further S3 call would fail
    assert s3_storage.local_dir("models/job-2") == first
    assert (first / "a.txt").read_text() == "alpha"


def test_s3_delete_removes_objects_and_the_cached_copy(s3_storage, tmp_path):
    s3_storage.save_dir(make_tree(tmp_path / "artifact"), "models/job-3")
    s3_storage.local_dir("models/job-3")
    s3_storage.delete("models/job-3")
    assert not s3_storage.exists("models/job-3")
    with pytest.raises(FileNotFoundError):
        s3_storage.local_dir("models/job-3")


def test_a_key_never_reaches_keys_that_only_start_like_it(storage, tmp_path):
    make_tree(tmp_path / "tree")
    for key in ("datasets/1", "datasets/10", "datasets/12"):
        storage.save_dir(tmp_path / "tree", key)
    storage.delete("datasets/1")
    assert not storage.exists("datasets/1")
    assert storage.exists("datasets/10") and storage.exists("datasets/12/a.txt")
    assert storage.local_dir("datasets/10").joinpath("sub/b.bin").read_bytes() == b"\x00\x01beta"
