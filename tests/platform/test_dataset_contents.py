"""What a ready dataset holds, for the console: per-split, per-class counts and sample
thumbnails with masks drawn (GET /datasets/{id}/summary/ and samples/{split}/{index}/)."""
import io

import numpy as np
import pytest
from PIL import Image

from platform_api.datasets.contents import class_colour
from platform_api.datasets.models import Dataset
from tests.factories import classification_zip, coco_zip, roboflow_seg_zip
from tests.platform.flows import import_in_process

pytestmark = pytest.mark.django_db(transaction=True)


def thumbnail(api, dataset, split, index) -> Image.Image:
    response = api.get(f"/api/v1/datasets/{dataset.pk}/samples/{split}/{index}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    return Image.open(io.BytesIO(response.content)).convert("RGB")


def test_a_classification_dataset_counts_images_per_class_and_split(api, user, tmp_path):
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip", per_class={"train": 5, "valid": 2}))
    body = api.get(f"/api/v1/datasets/{dataset.pk}/summary/").json()
    assert body["class_counts"] == {"train": {"blue": 5, "red": 5}, "valid": {"blue": 2, "red": 2}}
    assert body["count_unit"] == "images"
    first = body["samples"][0]
    assert first["split"] == "train" and first["labels"] in (["blue"], ["red"])
    assert len({(s["split"], s["index"]) for s in body["samples"]}) == len(body["samples"]) == 8 + 4
    picture = thumbnail(api, dataset, first["split"], first["index"])
    assert picture.size == (32, 32)  # small images are not enlarged


def test_an_instance_segmentation_sample_has_its_masks_drawn(api, user, tmp_path):
    dataset = import_in_process(user, coco_zip(tmp_path / "coco.zip"), fmt="coco")
    body = api.get(f"/api/v1/datasets/{dataset.pk}/summary/").json()
    assert body["count_unit"] == "instances"
    assert sum(sum(counts.values()) for counts in body["class_counts"].values()) > 0
    sample = body["samples"][0]
    drawn = np.asarray(thumbnail(api, dataset, sample["split"], sample["index"])).astype(int)
    colours = [np.array(Image.new("RGB", (1, 1), class_colour(n)).getpixel((0, 0))) for n in range(len(dataset.classes))]
    # Some pixels carry a class colour (a box outline is drawn in it at full strength).
    assert any((np.abs(drawn - colour).sum(axis=2) < 60).sum() > 10 for colour in colours)


def test_a_semantic_dataset_counts_the_images_showing_each_class(api, user, tmp_path):
    dataset = import_in_process(user, roboflow_seg_zip(tmp_path / "seg.zip"), fmt="roboflow_seg")
    body = api.get(f"/api/v1/datasets/{dataset.pk}/summary/").json()
    assert body["count_unit"] == "images showing the class"
    for split, counts in body["class_counts"].items():
        assert set(counts) == set(dataset.classes)
        assert all(0 <= n <= dataset.splits[split] for n in counts.values())
    sample = body["samples"][-1]
    assert thumbnail(api, dataset, sample["split"], sample["index"]).size[0] > 0


def test_a_missing_sample_is_not_found_and_an_importing_dataset_has_no_summary(api, user, tmp_path):
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
    assert api.get(f"/api/v1/datasets/{dataset.pk}/samples/train/999/").status_code == 404
    assert api.get(f"/api/v1/datasets/{dataset.pk}/samples/nosuch/0/").status_code == 404
    importing = Dataset.objects.create(owner=user, name="x", format="classification_folder", task="classification")
    response = api.get(f"/api/v1/datasets/{importing.pk}/summary/")
    assert response.status_code == 409 and response.json()["code"] == "dataset_not_ready"


def test_another_user_s_samples_are_not_found(other_api, user, tmp_path):
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
    assert other_api.get(f"/api/v1/datasets/{dataset.pk}/summary/").status_code == 404
    assert other_api.get(f"/api/v1/datasets/{dataset.pk}/samples/train/0/").status_code == 404
