"""classification_folder: <split>/<class>/<image>, or <class>/<image> split deterministically."""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.datasets.dataset_zip_helpers import image_bytes
from platform_api.datasets.importers import DatasetImportError, import_archive

PNG = image_bytes()
JPG = image_bytes(fmt="JPEG")


def imports(make_zip, dest, members):
    return import_archive(make_zip(members), "classification_folder", dest)


def test_it_imports_split_folders_with_val_mapped_to_valid(make_zip, dest):
    members = {
        "mydata/train/cat/1.jpg": JPG, "mydata/train/cat/2.jpg": JPG, "mydata/train/dog/1.png": PNG,
        "mydata/val/cat/3.jpg": JPG, "mydata/val/bird/1.jpg": JPG,  # bird only in val: still a class
        "mydata/test/dog/5.jpg": JPG, "mydata/test/dog/notes.txt": b"ignored",
        "mydata/README.md": b"ignored",
    }
    result = imports(make_zip, dest, members)
    expected = {
        "format": "classification_folder", "task": "classification", "multi_label": False,
        "classes": ["bird", "cat", "dog"],
        "splits": {
            "train": {"items": [{"image": "train/cat/1.jpg", "labels": [1]}, {"image": "train/cat/2.jpg", "labels": [1]},
                                {"image": "train/dog/1.png", "labels": [2]}]},
            "valid": {"items": [{"image": "val/bird/1.jpg", "labels": [0]}, {"image": "val/cat/3.jpg", "labels": [1]}]},
            "test": {"items": [{"image": "test/dog/5.jpg", "labels": [2]}]},
        },
    }
    assert result.manifest == expected
    assert json.loads((dest / "manifest.json").read_text()) == expected
    assert (result.task, result.classes, result.num_images) == ("classification", ["bird", "cat", "dog"], 6)
    assert result.splits == {"train": 3, "valid": 2, "test": 1}
    assert (dest / "val/bird/1.jpg").read_bytes() == JPG


def unsplit_members():
    members = {f"cat/{i:02d}.png": PNG for i in range(10)}
    members.update({"dog/a.png": PNG, "dog/b.png": PNG, "fish/only.png": PNG})
    return members


def first_by_sha256(paths, n):
    return sorted(sorted(paths, key=lambda p: hashlib.sha256(p.encode()).hexdigest())[:n])


def test_it_splits_class_folders_80_20_by_path_hash(make_zip, dest):
    result = imports(make_zip, dest, unsplit_members())
    valid = [item["image"] for item in result.manifest["splits"]["valid"]["items"]]
    train = [item["image"] for item in result.manifest["splits"]["train"]["items"]]
    cats = [f"cat/{i:02d}.png" for i in range(10)]
    # cat: 10 images -> 2 valid; dog: 2 -> 1 each side; fish: 1 image -> train only
    assert valid == sorted(first_by_sha256(cats, 2) + first_by_sha256(["dog/a.png", "dog/b.png"], 1))
    assert sorted(train + valid) == sorted(unsplit_members())
    assert "fish/only.png" in train
    assert result.classes == ["cat", "dog", "fish"] and result.splits == {"train": 10, "valid": 3}


def test_it_strips_a_wrapper_folder_named_images(make_zip, dest):
    members = {f"images/{name}": data for name, data in unsplit_members().items()}
    result = imports(make_zip, dest, members)
    assert result.classes == ["cat", "dog", "fish"] and (dest / "cat/00.png").is_file()


def test_its_split_ignores_member_order(make_zip, tmp_path):
    members = unsplit_members()
    forward = import_archive(make_zip(members, "a.zip"), "classification_folder", tmp_path / "a")
    reverse = import_archive(make_zip(dict(reversed(members.items())), "b.zip"), "classification_folder", tmp_path / "b")
    assert forward.manifest == reverse.manifest


def test_its_split_ignores_the_python_hash_seed(make_zip, tmp_path):
    upload = make_zip(unsplit_members())
    here = import_archive(upload, "classification_folder", tmp_path / "here").manifest
    script = (
        "import json, sys; from platform_api.datasets.importers import import_archive; "
        "print(json.dumps(import_archive(sys.argv[1], 'classification_folder', sys.argv[2]).manifest))"
    )
    repo = Path(__file__).resolve().parents[2]
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    there = subprocess.run([sys.executable, "-c", script, str(upload), str(tmp_path / "there")], cwd=repo,
                           env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True)
    assert json.loads(there.stdout) == here


@pytest.mark.parametrize("members, message", [
    ({"train/README.txt": b"x", "valid/README.txt": b"x"}, "no images found"),
    ({"train/cat/1.png": PNG, "train/dog/1.png": PNG, "valid/notes.txt": b"x", "valid/cat/2.png": PNG,
      "test/cat/readme.txt": b"x", "test/dog/x.png": PNG, "valid/dog/2.png": PNG, "test/x.jpg": JPG},
     "test/x.jpg: image directly under split folder 'test'; expected test/<class>/<image>"),
    ({"train/cat/1.png": PNG, "train/dog/1.png": PNG}, "missing split 'valid'"),
    ({"train/cat/1.png": PNG, "train/dog/1.png": PNG, "valid/cat/1.png": PNG, "val/dog/1.png": PNG},
     "both 'val' and 'valid' folders"),
    ({"train/cat/1.png": PNG, "valid/cat/2.png": PNG}, r"found 1 class folder\(s\) \['cat'\]; at least 2 classes"),
    ({"train/cat/1.png": PNG, "valid/dog/1.png": PNG, "extra/cat/1.png": PNG}, "folder 'extra' holds images next to the split"),
    ({"cat/1.png": PNG, "dog/1.png": PNG}, "cannot make a validation split"),
    ({"cat/1.png": PNG, "dog/1.png": PNG, "top.png": PNG}, "top.png: image at the archive root"),
    ({"train/cat/a/1.png": PNG, "valid/dog/1.png": PNG}, "train/cat/a/1.png: nested too deep"),
])
def test_it_rejects_bad_layouts(make_zip, dest, members, message):
    with pytest.raises(DatasetImportError, match=message):
        imports(make_zip, dest, members)
    assert not dest.exists()


def test_it_rejects_a_split_folder_without_images(make_zip, dest):
    members = {"train/cat/1.png": PNG, "train/dog/1.png": PNG, "valid/cat/1.png": PNG, "valid/dog/1.png": PNG,
               "test/cat/labels.txt": b"no images here"}
    with pytest.raises(DatasetImportError, match="split folder 'test' has no images"):
        imports(make_zip, dest, members)
