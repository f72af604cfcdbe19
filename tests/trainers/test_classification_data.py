import json
from collections import namedtuple

import torch
from PIL import Image

from trainers.core import DatasetSpec
from trainers.data.classification import IMAGENET_MEAN, IMAGENET_STD, ClassificationDataset, split_items
from trainers.engine.loop import move_batch


def test_coco_manifests_give_each_image_the_set_of_its_annotated_categories(tmp_path):
    coco = {"images": [{"id": 7, "file_name": "a.png"}, {"id": 9, "file_name": "b.png"}, {"id": 11, "file_name": "c.png"}],
            "annotations": [{"image_id": 7, "category_id": 2}, {"image_id": 7, "category_id": 1},
                            {"image_id": 7, "category_id": 2}, {"image_id": 9, "category_id": 3}],
            "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}, {"id": 3, "name": "bird"}]}
    (tmp_path / "train.json").write_text(json.dumps(coco))
    spec = DatasetSpec(tmp_path, {"format": "coco", "task": "instance_segmentation", "classes": ["cat", "dog", "bird"],
                                  "splits": {"train": {"coco": "train.json", "num_images": 3}}})
    assert split_items(spec, "train") == [{"image": "a.png", "labels": [0, 1]}, {"image": "b.png", "labels": [2]},
                                          {"image": "c.png", "labels": []}]


def test_items_are_resized_normalised_and_multi_hot_encoded(tmp_path):
    Image.new("RGB", (40, 20), (255, 0, 0)).save(tmp_path / "red.png")
    spec = DatasetSpec(tmp_path, {"task": "classification", "classes": ["a", "b", "c"],
                                  "splits": {"train": {"items": [{"image": "red.png", "labels": [0, 2]}]}}})
    image, target = ClassificationDataset(spec, "train", resolution=16, multi_label=True)[0]
    assert image.shape == (3, 16, 16)
    expected = [(1.0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], -IMAGENET_MEAN[1] / IMAGENET_STD[1],
                -IMAGENET_MEAN[2] / IMAGENET_STD[2]]
    assert torch.allclose(image[:, 8, 8], torch.tensor(expected), atol=1e-5)
    assert target.tolist() == [1.0, 0.0, 1.0]


def test_move_batch_keeps_containers_and_makes_image_batches_channels_last():
    Pair = namedtuple("Pair", "images labels")
    batch = {"pair": Pair(torch.zeros(2, 3, 4, 4), torch.zeros(2)), "list": [torch.zeros(2, 3, 4, 4, dtype=torch.long)]}
    moved = move_batch(batch, torch.device("cpu"), channels_last=True)
    assert isinstance(moved["pair"], Pair)
    assert moved["pair"].images.is_contiguous(memory_format=torch.channels_last)
    assert not moved["pair"].images.is_contiguous()
    assert not moved["list"][0].is_contiguous(memory_format=torch.channels_last)  # integer masks keep their layout
