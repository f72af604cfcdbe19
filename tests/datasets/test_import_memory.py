"""Peak Python memory of an import must not grow with the archive's size."""
import tracemalloc
import zipfile

from tests.datasets.dataset_zip_helpers import noise_png, write_zip
from platform_api.datasets.importers import import_archive

SLACK_BYTES = 256 * 1024


def classification_archive(path, images_per_class, side=160):
    members = {}
    for split, count in (("train", images_per_class), ("valid", 1)):
        for cls in ("cat", "dog"):
            for i in range(count):
                members[f"{split}/{cls}/{i}.png"] = noise_png(side, seed=len(members))
    return write_zip(path, members, compression=zipfile.ZIP_STORED)


def peak_import_bytes(archive, dest):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        import_archive(archive, "classification_folder", dest)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_it_keeps_peak_memory_flat_with_four_times_the_images(tmp_path):
    small = classification_archive(tmp_path / "small.zip", images_per_class=5)  # 12 images, ~0.9 MB
    large = classification_archive(tmp_path / "large.zip", images_per_class=20)  # 42 images, ~3.2 MB
    assert large.stat().st_size > 3.3 * small.stat().st_size
    small_peak = peak_import_bytes(small, tmp_path / "small")
    large_peak = peak_import_bytes(large, tmp_path / "large")
    assert large_peak < 1.5 * small_peak + SLACK_BYTES, (small_peak, large_peak)
    assert large_peak < large.stat().st_size / 2  # nowhere near holding the archive


def test_it_keeps_peak_memory_flat_with_a_four_times_larger_member(tmp_path):
    def archive(path, side):
        members = {f"{split}/{cls}/1.png": noise_png(16, seed=i)
                   for i, (split, cls) in enumerate([(s, c) for s in ("train", "valid") for c in ("cat", "dog")])}
        members["train/cat/big.png"] = noise_png(side, seed=99)
        return write_zip(path, members, compression=zipfile.ZIP_STORED)

    small = archive(tmp_path / "small.zip", side=600)  # ~1.1 MB member
    large = archive(tmp_path / "large.zip", side=1200)  # ~4.3 MB member
    small_peak = peak_import_bytes(small, tmp_path / "small")
    large_peak = peak_import_bytes(large, tmp_path / "large")
    assert large_peak < 1.5 * small_peak + SLACK_BYTES, (small_peak, large_peak)
