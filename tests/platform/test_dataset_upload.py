import io
from datetime import datetime

import pytest

from platform_api.datasets.models import Dataset
from platform_api.datasets.services import import_dataset
from tests.factories import classification_zip
from tests.platform.flows import upload_dataset


def test_it_accepts_a_zip_and_queues_its_import(api, tmp_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload_dataset(api, classification_zip(tmp_path / "d.zip"))
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "importing"
    assert len(callbacks) == 1


def test_import_makes_the_dataset_ready_with_classes_and_split_counts(api, tmp_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        dataset_id = upload_dataset(api, classification_zip(tmp_path / "d.zip", classes=("red", "green", "blue"))).json()["id"]
    import_dataset(dataset_id)
    body = api.get(f"/api/v1/datasets/{dataset_id}/").json()
    assert body["status"] == "ready", body
    assert body["classes"] == ["blue", "green", "red"]
    assert body["splits"] == {"train": 24, "valid": 12}
    assert body["num_images"] == 36
    # the change to ready is dated
    assert datetime.fromisoformat(body["updated_at"]) > datetime.fromisoformat(body["created_at"])


def test_a_corrupt_image_fails_the_import_with_a_message_naming_it(api, tmp_path, django_capture_on_commit_callbacks):
    import zipfile

    path = classification_zip(tmp_path / "d.zip")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("train/red/broken.png", b"\x89PNG\r\n\x1a\nthis is not an image")
    with django_capture_on_commit_callbacks():
        dataset_id = upload_dataset(api, path).json()["id"]
    import_dataset(dataset_id)
    body = api.get(f"/api/v1/datasets/{dataset_id}/").json()
    assert body["status"] == "failed"
    assert "train/red/broken.png" in body["error"]


def test_it_refuses_a_file_that_is_not_a_zip_and_stores_nothing(api, tmp_path):
    path = tmp_path / "d.zip"
    path.write_bytes(b"plain text, not an archive")
    response = upload_dataset(api, path)
    assert response.status_code == 400
    assert "zip" in response.json()["archive"][0]
    assert Dataset.objects.count() == 0


def test_it_refuses_an_unknown_format(api, tmp_path):
    response = upload_dataset(api, classification_zip(tmp_path / "d.zip"), fmt="pascal_voc")
    assert response.status_code == 400
    assert "format" in response.json()
    assert Dataset.objects.count() == 0


@pytest.mark.parametrize(
    "limit, size",
    [(1000, 3_000_000), (2_000_000, 2_000_001)],
    ids=["refused-from-its-content-length", "refused-once-received"],
)
def test_it_refuses_an_upload_over_the_size_limit(api, tmp_path, settings, limit, size):
    settings.MAX_DATASET_UPLOAD_BYTES = limit
    archive = classification_zip(tmp_path / "d.zip")
    with archive.open("ab") as padded:
        padded.write(b"\0" * (size - archive.stat().st_size))
    response = upload_dataset(api, archive)
    assert response.status_code == 413
    assert "the limit of" in response.json()["archive"][0] or "the limit is" in response.json()["archive"][0]
    assert Dataset.objects.count() == 0


@pytest.mark.parametrize("missing", ["name", "format", "archive"])
def test_it_names_a_missing_field(api, tmp_path, missing):
    data = {"name": "d", "format": "classification_folder", "archive": io.BytesIO(b"PK")}
    data.pop(missing)
    response = api.post("/api/v1/datasets/", data, format="multipart")
    assert response.status_code == 400
    assert missing in response.json()


def test_it_refuses_junk_with_a_zip_tail_and_an_empty_zip_and_stores_nothing(api, tmp_path):
    import zipfile

    junk = tmp_path / "junk.zip"
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    junk.write_bytes(b"junk" * 10 + (tmp_path / "empty.zip").read_bytes())  # an end record, no entries
    for path, message in ((junk, "empty zip"), (tmp_path / "empty.zip", "empty zip")):
        response = upload_dataset(api, path)
        assert response.status_code == 400 and message in response.json()["archive"][0]
    assert Dataset.objects.count() == 0


def test_a_content_length_that_is_not_a_number_is_a_400(api, tmp_path):
    response = api.post("/api/v1/datasets/", {"name": "d", "format": "classification_folder",
                                              "archive": io.BytesIO(b"PK")}, format="multipart",
                        CONTENT_LENGTH="abc")
    assert response.status_code == 400 and "Content-Length" in response.json()["detail"]
    assert Dataset.objects.count() == 0


def test_an_unknown_format_is_refused_with_the_choices(api, tmp_path):
    response = upload_dataset(api, classification_zip(tmp_path / "d.zip"), fmt="yolo")
    assert response.json()["format"] == [
        '"yolo" is not a valid choice; choose one of: classification_folder, coco, roboflow_coco, roboflow_seg.']


def test_an_import_that_fills_the_disk_says_so_and_keeps_nothing(api, tmp_path, monkeypatch):
    import errno

    from platform_api.datasets import services

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(services, "import_archive", full)
    response = upload_dataset(api, classification_zip(tmp_path / "d.zip"))
    dataset = Dataset.objects.get(pk=response.json()["id"])
    import_dataset(dataset.pk)
    dataset.refresh_from_db()
    assert dataset.status == "failed"
    assert dataset.error.startswith("the server's disk is full") and "nothing of it was kept" in dataset.error
    assert "internal error" not in dataset.error
