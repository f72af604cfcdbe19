"""A phone photo stores its pixels sideways and says so in EXIF: import, training data,
evaluation and predict all see it upright, as a browser shows it."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from platform_api.datasets.importers import DatasetImportError, import_archive
from platform_api.deployments.services import decode_images
from tests.datasets.dataset_zip_helpers import json_bytes, write_zip
from trainers.data.classification import load_rgb
from trainers.data.images import ORIENTATION_TAG, open_rgb
from trainers.fai_mf.data import CocoInstanceDataset
from trainers.fai_mf.transforms import SquareTransform

WIDTH, HEIGHT = 40, 20  # as shown: wide, red on the left, blue on the right


def upright_scene() -> Image.Image:
    pixels = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    pixels[:, : WIDTH // 2] = (230, 20, 20)
    pixels[:, WIDTH // 2 :] = (20, 20, 230)
    return Image.fromarray(pixels)


def as_phone_stores_it(fmt: str = "JPEG") -> bytes:
    """Pixels turned a quarter (20x40 stored), with Orientation 6: 'rotate 90 degrees clockwise to show'."""
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6
    buffer = io.BytesIO()
    upright_scene().transpose(Image.Transpose.ROTATE_90).save(buffer, format=fmt, exif=exif, quality=95)
    return buffer.getvalue()


def assert_upright(image: Image.Image) -> None:
    assert image.size == (WIDTH, HEIGHT)
    pixels = np.asarray(image.convert("RGB"), dtype=float)
    left, right = pixels[:, : WIDTH // 2 - 2].mean((0, 1)), pixels[:, WIDTH // 2 + 2 :].mean((0, 1))
    assert left[0] > 180 and left[2] < 70, left  # red
    assert right[2] > 180 and right[0] < 70, right  # blue


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_training_data_opens_upright(tmp_path, fmt):
    path = tmp_path / f"photo.{fmt.lower()}"
    path.write_bytes(as_phone_stores_it(fmt))
    assert Image.open(path).size == (HEIGHT, WIDTH)  # what the file holds
    assert_upright(open_rgb(path))
    assert_upright(load_rgb(path))


def test_predict_sees_the_photo_upright():
    [image] = decode_images([as_phone_stores_it()])
    assert_upright(image)


def test_an_image_without_orientation_is_left_as_stored():
    buffer = io.BytesIO()
    upright_scene().save(buffer, format="PNG")
    [image] = decode_images([buffer.getvalue()])
    assert_upright(image)


def coco_archive(tmp_path, declared_size):
    width, height = declared_size
    doc = {
        "images": [{"id": 1, "file_name": "photo.jpg", "width": width, "height": height}],
        # the right (blue) half, as a labelling tool that shows the photo upright draws it
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                         "segmentation": [[20, 0, 40, 0, 40, 20, 20, 20]]}],
        "categories": [{"id": 1, "name": "blue"}],
    }
    members = {"annotations/instances_train.json": json_bytes(doc), "annotations/instances_val.json": json_bytes(doc),
               "images/photo.jpg": as_phone_stores_it()}
    return write_zip(tmp_path / "coco.zip", members)


def test_coco_sizes_are_checked_against_the_upright_photo_and_masks_line_up(tmp_path):
    dest = tmp_path / "dataset"
    import_archive(coco_archive(tmp_path, (WIDTH, HEIGHT)), "coco", dest)
    dataset = CocoInstanceDataset(dest, "annotations/train.json", SquareTransform(64))
    image, target = dataset[0]
    blue = image[2] > image[0]  # where the photo is blue once upright and resized
    mask = target["masks"][0]
    assert (mask == blue).float().mean() > 0.95
    assert torch.equal(target["labels"], torch.tensor([0]))


def test_coco_sizes_of_the_sideways_pixels_are_refused_with_a_clear_message(tmp_path):
    with pytest.raises(DatasetImportError, match=r"photo.jpg: image is 40x20 but .* says 20x40"):
        import_archive(coco_archive(tmp_path, (HEIGHT, WIDTH)), "coco", tmp_path / "dataset")
