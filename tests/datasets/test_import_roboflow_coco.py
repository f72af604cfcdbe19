"""roboflow_coco: <split>/_annotations.coco.json with the images beside it."""
import json

import pytest

from tests.datasets.dataset_zip_helpers import image_bytes, json_bytes
from platform_api.datasets.importers import DatasetImportError, import_archive

W, H = 24, 20
SQUARE = [[2, 2, 12, 2, 12, 12, 2, 12]]
ROBOFLOW_CATEGORIES = [{"id": 0, "name": "cells", "supercategory": "none"},
                       {"id": 1, "name": "red", "supercategory": "cells"},
                       {"id": 2, "name": "white", "supercategory": "cells"}]


def split_doc(prefix, image_id, category_ids, categories=ROBOFLOW_CATEGORIES):
    return {
        "images": [{"id": image_id, "file_name": f"{prefix}_jpg.rf.abc.jpg", "width": W, "height": H}],
        "annotations": [{"id": image_id * 10 + i, "image_id": image_id, "category_id": c, "segmentation": SQUARE,
                         "bbox": [2, 2, 10, 10], "area": 100, "iscrowd": 0} for i, c in enumerate(category_ids)],
        "categories": categories,
    }


def roboflow_members(docs):
    members = {"README.roboflow.txt": b"exported from roboflow"}
    for split, doc in docs.items():
        members[f"{split}/_annotations.coco.json"] = json_bytes(doc)
        for image in doc["images"]:
            members[f"{split}/{image['file_name']}"] = image_bytes((W, H), fmt="JPEG")
    return members


def test_it_imports_roboflow_coco_and_drops_the_unused_parent_category(make_zip, dest):
    docs = {"train": split_doc("t", 1, [1, 2]), "valid": split_doc("v", 2, [2]), "test": split_doc("s", 3, [1])}
    result = import_archive(make_zip(roboflow_members(docs)), "roboflow_coco", dest)
    assert result.manifest == {
        "format": "roboflow_coco", "task": "instance_segmentation", "classes": ["red", "white"],
        "splits": {"train": {"coco": "annotations/train.json", "num_images": 1},
                   "valid": {"coco": "annotations/valid.json", "num_images": 1},
                   "test": {"coco": "annotations/test.json", "num_images": 1}},
    }
    train = json.loads((dest / "annotations/train.json").read_text())
    assert train["images"] == [{"id": 1, "file_name": "train/t_jpg.rf.abc.jpg", "width": W, "height": H}]
    assert [a["category_id"] for a in train["annotations"]] == [1, 2]
    assert train["categories"] == [{"id": 1, "name": "red", "supercategory": "cells"},
                                   {"id": 2, "name": "white", "supercategory": "cells"}]


def test_it_keeps_a_parent_category_that_annotations_use(make_zip, dest):
    docs = {"train": split_doc("t", 1, [0, 2]), "valid": split_doc("v", 2, [1])}
    result = import_archive(make_zip(roboflow_members(docs)), "roboflow_coco", dest)
    assert result.classes == ["cells", "red", "white"]
    train = json.loads((dest / "annotations/train.json").read_text())
    assert [a["category_id"] for a in train["annotations"]] == [1, 3]  # original ids 0 and 2 -> index + 1


def test_it_keeps_unused_categories_that_are_not_the_roboflow_parent(make_zip, dest):
    categories = [{"id": 0, "name": "cells", "supercategory": "blood"},  # id 0, but not supercategory "none"
                  {"id": 1, "name": "red", "supercategory": "cells"},
                  {"id": 5, "name": "platelet", "supercategory": "none"}]  # "none", but not id 0
    docs = {"train": split_doc("t", 1, [1], categories), "valid": split_doc("v", 2, [1], categories)}
    result = import_archive(make_zip(roboflow_members(docs)), "roboflow_coco", dest)
    assert result.classes == ["cells", "red", "platelet"]


def test_it_rejects_a_split_folder_without_annotations(make_zip, dest):
    members = roboflow_members({"train": split_doc("t", 1, [1]), "valid": split_doc("v", 2, [1])})
    del members["valid/_annotations.coco.json"]
    with pytest.raises(DatasetImportError, match="valid/: split folder without _annotations.coco.json"):
        import_archive(make_zip(members), "roboflow_coco", dest)


def test_it_rejects_an_unexpected_folder(make_zip, dest):
    members = roboflow_members({"train": split_doc("t", 1, [1]), "valid": split_doc("v", 2, [1])})
    members["extras/x.jpg"] = image_bytes()
    with pytest.raises(DatasetImportError, match="unexpected folder 'extras/'"):
        import_archive(make_zip(members), "roboflow_coco", dest)


def test_it_rejects_an_image_missing_beside_the_annotations(make_zip, dest):
    members = roboflow_members({"train": split_doc("t", 1, [1]), "valid": split_doc("v", 2, [1])})
    del members["valid/v_jpg.rf.abc.jpg"]
    with pytest.raises(DatasetImportError, match=r"valid/_annotations.coco.json: image 'v_jpg.rf.abc.jpg' \(id 2\) "
                                                 r"is not in the archive \(searched valid/\)"):
        import_archive(make_zip(members), "roboflow_coco", dest)


def test_it_requires_train_and_valid(make_zip, dest):
    members = roboflow_members({"train": split_doc("t", 1, [1]), "test": split_doc("v", 2, [1])})
    with pytest.raises(DatasetImportError, match="roboflow_coco: missing split 'valid'"):
        import_archive(make_zip(members), "roboflow_coco", dest)
