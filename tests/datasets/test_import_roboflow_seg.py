"""roboflow_seg: per split _classes.csv, <name>.jpg and <name>_mask.png; masks become class indices."""
import numpy as np
import pytest
from PIL import Image

from tests.datasets.dataset_zip_helpers import image_bytes, mask_png
from platform_api.datasets.importers import DatasetImportError, import_archive

W, H = 6, 4
# Listed out of order and with stray spaces; pixel values 0, 3, 7 -> class indices 0, 1, 2.
CLASSES_CSV = b" Pixel Value ,  Class \n7, car\n\n0 , background\n 3, road \n"
MASK_VALUES = np.array([[0, 0, 3, 3, 7, 7],
                        [0, 0, 3, 3, 7, 7],
                        [255, 255, 0, 0, 0, 0],
                        [3, 3, 3, 3, 3, 3]], dtype=np.uint8)
EXPECTED_INDICES = np.array([[0, 0, 1, 1, 2, 2],
                             [0, 0, 1, 1, 2, 2],
                             [255, 255, 0, 0, 0, 0],
                             [1, 1, 1, 1, 1, 1]], dtype=np.uint8)


def seg_members(splits=("train", "valid"), mask=MASK_VALUES):
    members = {}
    for split in splits:
        members[f"{split}/_classes.csv"] = CLASSES_CSV
        members[f"{split}/a.jpg"] = image_bytes((W, H), fmt="JPEG")
        members[f"{split}/a_mask.png"] = mask_png(mask)
        members[f"{split}/b.png"] = image_bytes((W, H))
        members[f"{split}/b_mask.png"] = mask_png(mask, mode="RGB")  # RGB with equal channels
    return members


def expect_error(make_zip, dest, members, message):
    with pytest.raises(DatasetImportError, match=message):
        import_archive(make_zip(members), "roboflow_seg", dest)
    assert not dest.exists()


def test_it_imports_roboflow_semantic_masks_as_class_indices(make_zip, dest):
    members = {f"project-v2/{name}": data for name, data in seg_members(("train", "valid", "test")).items()}
    result = import_archive(make_zip(members), "roboflow_seg", dest)
    assert result.manifest == {
        "format": "roboflow_seg", "task": "semantic_segmentation", "classes": ["background", "road", "car"],
        "ignore_index": 255,
        "splits": {split: {"items": [{"image": f"{split}/a.jpg", "mask": f"{split}/a_mask.png"},
                                     {"image": f"{split}/b.png", "mask": f"{split}/b_mask.png"}]}
                   for split in ("train", "valid", "test")},
    }
    assert result.splits == {"train": 2, "valid": 2, "test": 2} and result.num_images == 6
    for split in ("train", "valid", "test"):
        for name in ("a_mask.png", "b_mask.png"):
            with Image.open(dest / split / name) as mask:
                assert mask.mode == "L" and mask.format == "PNG"
                np.testing.assert_array_equal(np.asarray(mask), EXPECTED_INDICES)


def test_it_rejects_an_image_without_mask(make_zip, dest):
    members = seg_members()
    del members["valid/b_mask.png"]
    expect_error(make_zip, dest, members, r"valid/b.png: image without mask \(expected valid/b_mask.png\)")


def test_it_rejects_a_mask_without_image(make_zip, dest):
    members = seg_members()
    del members["train/a.jpg"]
    expect_error(make_zip, dest, members, "train/a_mask.png: mask without image")


def test_it_rejects_a_pixel_value_missing_from_the_csv(make_zip, dest):
    mask = MASK_VALUES.copy()
    mask[0, 0] = 5
    members = seg_members()
    members["valid/a_mask.png"] = mask_png(mask)
    expect_error(make_zip, dest, members, "valid/a_mask.png: pixel value 5 is not listed in valid/_classes.csv")


def test_it_rejects_a_mask_whose_size_differs_from_its_image(make_zip, dest):
    members = seg_members()
    members["train/b_mask.png"] = mask_png(MASK_VALUES[:, :5])
    expect_error(make_zip, dest, members, "train/b_mask.png: mask is 5x4 but its image is 6x4")


def test_it_rejects_an_rgb_mask_with_unequal_channels(make_zip, dest):
    members = seg_members()
    members["train/a_mask.png"] = image_bytes((W, H), color=(0, 3, 7))
    expect_error(make_zip, dest, members, "train/a_mask.png: RGB mask whose channels differ")


def test_it_rejects_different_classes_between_splits(make_zip, dest):
    members = seg_members()
    members["valid/_classes.csv"] = b"Pixel Value, Class\n0, background\n3, road\n7, truck\n"
    expect_error(make_zip, dest, members, "train/_classes.csv and valid/_classes.csv list different classes")


def test_it_rejects_a_split_without_classes_csv(make_zip, dest):
    members = seg_members()
    del members["valid/_classes.csv"]
    expect_error(make_zip, dest, members, "valid/: split folder without _classes.csv")


@pytest.mark.parametrize("csv, message", [
    (b"value, name\n0, bg\n1, road\n", "first line must be the header 'Pixel Value, Class'"),
    (b"Pixel Value, Class\n0, bg\nx, road\n", r"row 3 \['x', 'road'\]: expected '<pixel value 0-255>, <class name>'"),
    (b"Pixel Value, Class\n0, bg\n0, road\n", "pixel value 0 is listed twice"),
    (b"Pixel Value, Class\n0, bg\n1, bg\n", "class 'bg' is listed twice"),
])
def test_it_rejects_a_malformed_classes_csv(make_zip, dest, csv, message):
    members = seg_members()
    members["train/_classes.csv"] = members["valid/_classes.csv"] = csv
    expect_error(make_zip, dest, members, "train/_classes.csv: " + message)


def test_it_requires_train_and_valid(make_zip, dest):
    expect_error(make_zip, dest, seg_members(("train", "test")), "roboflow_seg: missing split 'valid'")
