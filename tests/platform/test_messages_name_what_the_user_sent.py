"""Errors name what the user sent (the path inside their archive, the image's position in
their request, the annotation in their file), never the server's temporary paths or
Python object reprs; and a COCO box that is NaN or negative fails the import."""
import base64
import errno
import io
import json
import zipfile

import pytest
from django.conf import settings

from platform_api.datasets import services as dataset_services
from platform_api.datasets.services import import_dataset
from tests.factories import classification_zip, coco_zip
from tests.platform.flows import upload_dataset
from tests.platform.rows import ready_deployment

pytestmark = pytest.mark.django_db


def imported(api, zip_path, fmt, django_capture_on_commit_callbacks) -> dict:
    with django_capture_on_commit_callbacks():
        response = upload_dataset(api, zip_path, fmt=fmt)
    assert response.status_code == 201, response.content
    import_dataset(response.json()["id"])
    return api.get(f"/api/v1/datasets/{response.json()['id']}/").json()


def with_first_annotation(zip_path, **changes):
    """The coco_zip with `changes` made to the first annotation of the train split, written
    the way Python's json writes NaN (the literal `NaN`, which it also reads back)."""
    with zipfile.ZipFile(zip_path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    coco = json.loads(members["annotations/instances_train.json"])
    coco["annotations"][0].update(changes)
    members["annotations/instances_train.json"] = json.dumps(coco).encode()
    with zipfile.ZipFile(zip_path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return zip_path, coco["annotations"][0]["id"]


@pytest.mark.parametrize("bbox", [[float("nan"), 1.0, 5.0, 5.0], [-4.0, 1.0, 5.0, 5.0]], ids=["nan", "negative"])
def test_a_coco_box_that_is_nan_or_negative_fails_the_import_naming_file_and_annotation(
        api, tmp_path, bbox, django_capture_on_commit_callbacks):
    zip_path, annotation_id = with_first_annotation(coco_zip(tmp_path / "c.zip"), bbox=bbox)
    body = imported(api, zip_path, "coco", django_capture_on_commit_callbacks)
    assert body["status"] == "failed", body
    assert body["error"].startswith("annotations/instances_train.json: annotation")
    assert f"annotation id {annotation_id}" in body["error"]


def test_a_coco_area_that_is_nan_fails_the_import(api, tmp_path, django_capture_on_commit_callbacks):
    zip_path, annotation_id = with_first_annotation(coco_zip(tmp_path / "c.zip"), area=float("nan"))
    body = imported(api, zip_path, "coco", django_capture_on_commit_callbacks)
    assert body["status"] == "failed"
    assert "annotations/instances_train.json: annotations[0].area: Input should be a finite number" in body["error"]
    assert f"(annotation id {annotation_id})" in body["error"]


def test_an_image_that_does_not_decode_is_named_by_its_path_in_the_archive(
        api, tmp_path, django_capture_on_commit_callbacks):
    zip_path = classification_zip(tmp_path / "d.zip")
    with zipfile.ZipFile(zip_path, "a") as archive:
        archive.writestr("train/red/notes.png", b"<html>not a picture</html>")
    body = imported(api, zip_path, "classification_folder", django_capture_on_commit_callbacks)
    assert body["status"] == "failed"
    assert body["error"] == ("train/red/notes.png: cannot decode image (cannot identify the image format "
                             "(not an image, or a format Pillow does not read))")


def test_an_import_that_crashes_names_archive_paths_not_the_server_s(
        api, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    def disk_full(archive_path, fmt, dest, limits):
        staging = dest.parent / f".{dest.name}.partial-x1y2"
        raise OSError(errno.ENOSPC, "No space left on device", str(staging / "train/red/3.png"))

    monkeypatch.setattr(dataset_services, "import_archive", disk_full)
    body = imported(api, classification_zip(tmp_path / "d.zip"), "classification_folder",
                    django_capture_on_commit_callbacks)
    assert body["error"].startswith("the server's disk is full")  # the cause said plainly, then the detail
    assert body["error"].endswith("([Errno 28] No space left on device: 'train/red/3.png')")
    assert str(settings.DATA_DIR) not in body["error"]


@pytest.mark.parametrize("sent_as", ["multipart", "base64"])
def test_a_non_image_sent_to_predict_is_named_by_its_position(api, user, templates, sent_as):
    deployment = ready_deployment(user)
    url = f"/api/v1/deployments/{deployment.pk}/predict/"
    if sent_as == "multipart":
        response = api.post(url, {"image": [io.BytesIO(b"plain text")]}, format="multipart")
        errors = response.json()["image"]
    else:
        response = api.post(url, {"images": [base64.b64encode(b"plain text").decode()]}, format="json")
        errors = response.json()["images"]
    assert response.status_code == 400
    assert errors == {"0": ["image 0 is not a readable image: cannot identify the image format "
                            "(not an image, or a format Pillow does not read)"]}
