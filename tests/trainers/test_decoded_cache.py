"""Images are decoded once and kept within the budget; what the model sees is unchanged."""
import torch
from PIL import Image
from torch.utils.data import DataLoader

from trainers.core import DatasetSpec
from trainers.data import classification
from trainers.data.classification import ClassificationDataset, image_to_tensor
from trainers.data.decoded_cache import DecodedImageCache


def write_images(root, count):
    items = []
    for i in range(count):
        Image.new("RGB", (30 + i, 20), (40 * i % 256, 100, 200 - i)).save(root / f"{i}.png")
        items.append({"image": f"{i}.png", "labels": [i % 2]})
    return DatasetSpec(root, {"task": "classification", "classes": ["a", "b"], "splits": {"train": {"items": items}}})


def counting_decodes(monkeypatch):
    decoded = []
    load = classification.load_rgb
    monkeypatch.setattr(classification, "load_rgb", lambda path: decoded.append(path.name) or load(path))
    return decoded


def test_each_image_is_decoded_once_across_epochs(tmp_path, monkeypatch):
    spec = write_images(tmp_path, 4)
    decoded = counting_decodes(monkeypatch)
    dataset = ClassificationDataset(spec, "train", resolution=8, multi_label=False)
    first = [dataset[i][0] for i in range(4)]
    second = [dataset[i][0] for i in range(4)]
    assert sorted(decoded) == ["0.png", "1.png", "2.png", "3.png"]
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert dataset.cache.nbytes == 4 * 3 * 8 * 8


def test_cached_items_equal_the_uncached_preprocessing_flipped_or_not(tmp_path):
    spec = write_images(tmp_path, 3)
    dataset = ClassificationDataset(spec, "train", resolution=8, multi_label=False, train=True, horizontal_flip=1.0)
    for _ in range(2):  # the second pass reads the cache
        for i in range(3):
            expected = image_to_tensor(Image.open(tmp_path / f"{i}.png"), 8, flip=True)
            assert torch.equal(dataset[i][0], expected)


def test_items_past_the_budget_are_decoded_each_time(tmp_path, monkeypatch):
    spec = write_images(tmp_path, 4)
    decoded = counting_decodes(monkeypatch)
    dataset = ClassificationDataset(spec, "train", resolution=8, multi_label=False, cache_budget_bytes=2 * 3 * 8 * 8)
    for _ in range(3):
        for i in range(4):
            dataset[i]
    assert dataset.cache.capacity == 2 and dataset.cache.nbytes == 2 * 3 * 8 * 8
    assert sorted(decoded) == ["0.png", "1.png"] + ["2.png"] * 3 + ["3.png"] * 3


def test_a_zero_budget_keeps_nothing(tmp_path, monkeypatch):
    spec = write_images(tmp_path, 2)
    decoded = counting_decodes(monkeypatch)
    dataset = ClassificationDataset(spec, "train", resolution=8, multi_label=False, cache_budget_bytes=0)
    dataset[0], dataset[0]
    assert decoded == ["0.png", "0.png"] and dataset.cache.nbytes == 0


def test_dataloader_worker_processes_decode_without_filling_the_cache(tmp_path):
    spec = write_images(tmp_path, 4)
    dataset = ClassificationDataset(spec, "train", resolution=8, multi_label=False)
    batches = list(DataLoader(dataset, batch_size=2, num_workers=1))
    assert len(batches) == 2 and dataset.cache.nbytes == 0
    assert torch.equal(batches[0][0][1], dataset[1][0])


def test_the_cache_returns_what_decode_gave_and_then_its_copy():
    cache = DecodedImageCache(2, (3, 2, 2))
    pixels = torch.arange(12, dtype=torch.uint8).view(3, 2, 2)
    assert torch.equal(cache.get(1, lambda: pixels), pixels)
    assert torch.equal(cache.get(1, lambda: torch.zeros(3, 2, 2, dtype=torch.uint8)), pixels)
