"""coco: annotations/instances_<split>.json | annotations/<split>.json plus images."""
import copy
import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from tests.datasets.dataset_zip_helpers import image_bytes, json_bytes
from platform_api.datasets.importers import DatasetImportError, import_archive

W, H = 20, 16
CATEGORIES = [{"id": 3, "name": "dog", "supercategory": "animal"}, {"id": 1, "name": "cat", "supercategory": "animal"},
              {"id": 7, "name": "unused"}]


def box_mask(rows, cols):
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[rows[0]:rows[1], cols[0]:cols[1]] = 1
    return mask


def uncompressed_rle(mask):
    """Column-major run lengths starting with a run of zeros (the COCO convention), by hand."""
    flat, counts, current, run = mask.ravel(order="F"), [], 0, 0
    for value in flat:
        if value != current:
            counts.append(run)
            current, run = value, 0
        run += 1
    counts.append(run)
    return {"size": [H, W], "counts": counts}


def compressed_rle(mask):
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {"size": rle["size"], "counts": rle["counts"].decode()}


POLYGON = [[2, 2, 10, 2, 10, 6, 2, 6]]
RLE_RAW = uncompressed_rle(box_mask((2, 6), (3, 9)))  # 4 rows x 6 cols: area 24, bbox [3, 2, 6, 4]
RLE_CROWD = compressed_rle(box_mask((10, 13), (0, 20)))  # 3 rows x 20 cols: area 60, bbox [0, 10, 20, 3]


def train_doc():
    return {
        "info": {"description": "ignored"},
        "images": [{"id": 1, "file_name": "a.png", "width": W, "height": H, "license": 1},
                   {"id": 2, "file_name": "b.jpg", "width": W, "height": H}],
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 3, "segmentation": POLYGON, "bbox": [2, 2, 8, 4], "area": 32.0,
             "iscrowd": 0},
            {"id": 11, "image_id": 2, "category_id": 1, "segmentation": RLE_RAW, "iscrowd": 0},
            {"id": 12, "image_id": 2, "category_id": 3, "segmentation": RLE_CROWD, "iscrowd": 1},
        ],
        "categories": CATEGORIES,
    }


def valid_doc():
    return {"images": [{"id": 5, "file_name": "c.png", "width": W, "height": H}],
            "annotations": [{"id": 20, "image_id": 5, "category_id": 1, "segmentation": POLYGON}],
            "categories": CATEGORIES}


def coco_members(train=None, valid=None):
    return {
        "export/annotations/instances_train.json": json_bytes(train or train_doc()),
        "export/annotations/val.json": json_bytes(valid or valid_doc()),
        "export/annotations/captions_train.json": b"{}",  # other COCO files are ignored
        "export/images/train/a.png": image_bytes((W, H)),
        "export/train/b.jpg": image_bytes((W, H), fmt="JPEG"),
        "export/images/c.png": image_bytes((W, H)),
    }


def test_it_imports_and_normalises_coco(make_zip, dest):
    result = import_archive(make_zip(coco_members()), "coco", dest)
    assert result.manifest == {
        "format": "coco", "task": "instance_segmentation", "classes": ["cat", "dog", "unused"],
        "splits": {"train": {"coco": "annotations/train.json", "num_images": 2},
                   "valid": {"coco": "annotations/valid.json", "num_images": 1}},
    }
    assert result.splits == {"train": 2, "valid": 1} and result.num_images == 3
    categories = [{"id": 1, "name": "cat", "supercategory": "animal"}, {"id": 2, "name": "dog", "supercategory": "animal"},
                  {"id": 3, "name": "unused", "supercategory": ""}]
    assert json.loads((dest / "annotations/train.json").read_text()) == {
        "images": [{"id": 1, "file_name": "images/train/a.png", "width": W, "height": H},
                   {"id": 2, "file_name": "train/b.jpg", "width": W, "height": H}],
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 2, "segmentation": POLYGON, "area": 32.0, "bbox": [2, 2, 8, 4],
             "iscrowd": 0},
            {"id": 11, "image_id": 2, "category_id": 1, "segmentation": RLE_RAW, "area": 24.0, "bbox": [3, 2, 6, 4],
             "iscrowd": 0},
            {"id": 12, "image_id": 2, "category_id": 2, "segmentation": RLE_CROWD, "area": 60.0,
             "bbox": [0, 10, 20, 3], "iscrowd": 1},
        ],
        "categories": categories,
    }
    valid = json.loads((dest / "annotations/valid.json").read_text())
    assert valid["images"] == [{"id": 5, "file_name": "images/c.png", "width": W, "height": H}]
    assert valid["categories"] == categories and valid["annotations"][0]["category_id"] == 1
    for image in valid["images"] + json.loads((dest / "annotations/train.json").read_text())["images"]:
        assert (dest / image["file_name"]).is_file()


def test_it_accepts_year_suffixed_coco_names(make_zip, dest):
    members = {
        "annotations/instances_train2017.json": json_bytes(train_doc()),
        "annotations/instances_val2017.json": json_bytes(valid_doc()),
        "train2017/a.png": image_bytes((W, H)), "train2017/b.jpg": image_bytes((W, H), fmt="JPEG"),
        "val2017/c.png": image_bytes((W, H)),
    }
    result = import_archive(make_zip(members), "coco", dest)
    assert result.splits == {"train": 2, "valid": 1}
    train = json.loads((dest / "annotations/train.json").read_text())
    assert [i["file_name"] for i in train["images"]] == ["train2017/a.png", "train2017/b.jpg"]


def broken(edit, split="train"):
    """Members whose `split` annotation document went through `edit(doc)`."""
    doc = copy.deepcopy(train_doc() if split == "train" else valid_doc())
    edit(doc)
    return coco_members(**{split: doc})


def set_path(doc, path, value):
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value


CASES = {
    "missing categories": (lambda d: d.pop("categories"),
                           "annotations/instances_train.json: categories: Field required"),
    "annotation without image_id": (lambda d: set_path(d, ["annotations", 1, "image_id"], KeyError),
                                    r"annotations/instances_train.json: annotations\[1\].image_id: Field required"),
    "missing image id": (lambda d: set_path(d, ["annotations", 0, "image_id"], 99),
                         "annotation id 10 references missing image id 99"),
    "unknown category": (lambda d: set_path(d, ["annotations", 2, "category_id"], 42),
                         "annotation id 12 has unknown category id 42"),
    "absent image file": (lambda d: set_path(d, ["images", 1, "file_name"], "zzz.jpg"),
                          r"image 'zzz.jpg' \(id 2\) is not in the archive"),
    "duplicate image id": (lambda d: set_path(d, ["images", 1, "id"], 1), "duplicate image id 1"),
    "size disagrees": (lambda d: set_path(d, ["images", 0, "width"], 21),
                       "images/train/a.png: image is 20x16 but annotations/instances_train.json says 21x16"),
    "no segmentation": (lambda d: set_path(d, ["annotations", 0, "segmentation"], KeyError),
                        "annotation id 10 has no segmentation"),
    "polygon of two points": (lambda d: set_path(d, ["annotations", 0, "segmentation"], [[1, 1, 5, 5]]),
                              "annotation id 10 has a bad segmentation: polygon 0 has 4 coordinates"),
    "flat polygon": (lambda d: set_path(d, ["annotations", 0, "segmentation"], [1, 1, 5, 5, 1, 5]),
                     "annotation id 10 has a bad segmentation: polygon 0 is not a list"),
    "polygon far outside": (lambda d: set_path(d, ["annotations", 0, "segmentation"], [[0, 0, 1e9, 0, 0, 5]]),
                            "polygon 0 lies far outside the 20x16 image"),
    "rle counts short": (lambda d: set_path(d, ["annotations", 1, "segmentation", "counts"], RLE_RAW["counts"][:-1]),
                         r"annotation id 11 has a bad segmentation: RLE counts cover \d+ pixels; the image has 320"),
    "rle wrong size": (lambda d: set_path(d, ["annotations", 1, "segmentation", "size"], [W, H]),
                       r"RLE size \[20, 16\] does not match the image's \[height, width\] \[16, 20\]"),
    "compressed rle overruns": (lambda d: set_path(d, ["annotations", 2, "segmentation", "counts"], "0`0"),
                                "annotation id 12 has a bad segmentation: RLE counts cover"),
    "compressed rle garbage": (lambda d: set_path(d, ["annotations", 2, "segmentation", "counts"], "~~~"),
                               "annotation id 12 has a bad segmentation: compressed RLE counts"),
    "bad bbox": (lambda d: set_path(d, ["annotations", 0, "bbox"], [1, 2, 3]), "annotation id 10: bbox must be"),
}


@pytest.mark.parametrize("case", CASES)
def test_it_rejects_bad_annotations(make_zip, dest, case):
    edit, message = CASES[case]
    with pytest.raises(DatasetImportError, match=message):
        import_archive(make_zip(broken(edit)), "coco", dest)
    assert not dest.exists()


def test_it_rejects_malformed_json(make_zip, dest):
    members = coco_members()
    members["export/annotations/val.json"] = b'{"images": [1, }'
    with pytest.raises(DatasetImportError, match=r"annotations/val.json: malformed JSON \(Expecting value: line 1"):
        import_archive(make_zip(members), "coco", dest)


def test_it_rejects_an_empty_split(make_zip, dest):
    upload = make_zip(broken(lambda d: (d.__setitem__("images", []), d.__setitem__("annotations", [])), "valid"))
    with pytest.raises(DatasetImportError, match="annotations/val.json: split 'valid' has no images"):
        import_archive(upload, "coco", dest)


def test_it_rejects_one_category_id_with_two_names(make_zip, dest):
    doc = valid_doc()
    doc["categories"] = copy.deepcopy(CATEGORIES)
    doc["categories"][1]["name"] = "kitten"
    with pytest.raises(DatasetImportError, match="category id 1 is 'cat' in annotations/instances_train.json "
                                                 "but 'kitten' in annotations/val.json"):
        import_archive(make_zip(coco_members(valid=doc)), "coco", dest)


def test_it_rejects_an_archive_without_annotation_files(make_zip, dest):
    members = {k.replace("annotations/", "labels/"): v for k, v in coco_members().items()}
    with pytest.raises(DatasetImportError, match="no COCO annotation file found"):
        import_archive(make_zip(members), "coco", dest)


def test_it_rejects_two_annotation_files_for_one_split(make_zip, dest):
    members = coco_members()
    members["export/annotations/instances_valid.json"] = members["export/annotations/val.json"]
    with pytest.raises(DatasetImportError, match="are both annotations of split 'valid'"):
        import_archive(make_zip(members), "coco", dest)


def test_it_requires_a_validation_split(make_zip, dest):
    members = coco_members()
    del members["export/annotations/val.json"]
    with pytest.raises(DatasetImportError, match="coco: missing split 'valid'"):
        import_archive(make_zip(members), "coco", dest)


NOT_FINITE_OR_NEGATIVE = {
    "nan bbox": (["annotations", 0, "bbox"], [float("nan"), 2, 8, 4],
                 r"annotations/instances_train.json: annotations\[0\]\.bbox\[0\]: Input should be a finite number "
                 r"\(annotation id 10\)"),
    "infinite bbox": (["annotations", 0, "bbox"], [2, 2, float("inf"), 4],
                      r"annotations\[0\]\.bbox\[2\]: Input should be a finite number \(annotation id 10\)"),
    "negative bbox x": (["annotations", 0, "bbox"], [-3, 2, 8, 4],
                        r"annotations/instances_train.json: annotation id 10: bbox must be .*>= 0, got \[-3\.0, 2"),
    "negative bbox height": (["annotations", 0, "bbox"], [2, 2, 8, -4], r"annotation id 10: bbox must be"),
    "nan area": (["annotations", 0, "area"], float("nan"),
                 r"annotations\[0\]\.area: Input should be a finite number \(annotation id 10\)"),
    "infinite area": (["annotations", 1, "area"], float("inf"), r"annotations\[1\]\.area: .* \(annotation id 11\)"),
    "nan image width": (["images", 1, "width"], float("nan"),
                        r"images\[1\]\.width: Input should be a finite number \(image id 2\)"),
}


@pytest.mark.parametrize("case", NOT_FINITE_OR_NEGATIVE)
def test_it_refuses_a_nan_infinite_or_negative_number_naming_the_file_and_annotation(make_zip, dest, case):
    path, value, message = NOT_FINITE_OR_NEGATIVE[case]
    with pytest.raises(DatasetImportError, match=message):
        import_archive(make_zip(broken(lambda d: set_path(d, path, value))), "coco", dest)
    assert not dest.exists()


def test_it_refuses_a_number_that_overflows_to_infinity_when_read(make_zip, dest):
    members = coco_members()
    doc = json_bytes(train_doc()).replace(b'"area": 32.0', b'"area": 1e999')
    members["export/annotations/instances_train.json"] = doc
    with pytest.raises(DatasetImportError, match=r"annotations\[0\]\.area: Input should be a finite number \(annotation"):
        import_archive(make_zip(members), "coco", dest)


def test_it_stores_of_an_rle_only_its_checked_size_and_counts(make_zip, dest):
    members = broken(lambda d: set_path(d, ["annotations", 1, "segmentation", "score"], float("nan")))
    import_archive(make_zip(members), "coco", dest)
    stored = json.loads((dest / "annotations/train.json").read_text(), parse_constant=pytest.fail)
    assert stored["annotations"][1]["segmentation"] == RLE_RAW
