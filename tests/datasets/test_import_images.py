"""Every image is decoded; bad ones are named, pixel bombs are refused before decoding."""
import io
import struct
import zlib

import pytest
from PIL import Image

from tests.datasets.dataset_zip_helpers import image_bytes
from platform_api.datasets.importers import DatasetImportError, ImportLimits, import_archive

PNG = image_bytes()


def with_splits(extra):
    members = {"train/cat/1.png": PNG, "train/dog/1.png": PNG, "valid/cat/1.png": PNG, "valid/dog/1.png": PNG}
    members.update(extra)
    return members


def two_frame_gif():
    buffer = io.BytesIO()
    frames = [Image.new("P", (8, 8), 1), Image.new("P", (8, 8), 2)]
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def test_it_accepts_every_supported_image_format(make_zip, dest):
    extra = {f"train/cat/x.{ext}": image_bytes(fmt=fmt) for ext, fmt in [
        ("jpg", "JPEG"), ("jpeg", "JPEG"), ("JPG", "JPEG"), ("bmp", "BMP"), ("webp", "WEBP"),
        ("tif", "TIFF"), ("tiff", "TIFF")]}
    extra["train/dog/anim.gif"] = two_frame_gif()
    result = import_archive(make_zip(with_splits(extra)), "classification_folder", dest)
    assert result.splits == {"train": 2 + 8, "valid": 2}


def test_it_names_an_image_that_does_not_decode(make_zip, dest):
    truncated = image_bytes(size=(64, 64), fmt="JPEG")[:300]
    upload = make_zip(with_splits({"train/cat/3.jpg": truncated}))
    with pytest.raises(DatasetImportError, match=r"^train/cat/3.jpg: cannot decode image \(.+\)$"):
        import_archive(upload, "classification_folder", dest)
    assert not dest.exists()


def test_it_names_a_file_that_is_not_an_image_at_all(make_zip, dest):
    upload = make_zip(with_splits({"valid/dog/2.png": b"<html>not a picture</html>"}))
    with pytest.raises(DatasetImportError, match=r"valid/dog/2.png: cannot decode image \(cannot identify"):
        import_archive(upload, "classification_folder", dest)


def test_it_reports_up_to_ten_bad_images_at_once(make_zip, dest):
    bad = {f"train/cat/bad{i:02d}.png": b"junk" for i in range(12)}
    with pytest.raises(DatasetImportError) as caught:
        import_archive(make_zip(with_splits(bad)), "classification_folder", dest)
    message = caught.value.message
    assert message.startswith("12 bad images, the first 10: train/cat/bad00.png: cannot decode image")
    assert message.count("cannot decode image") == 10 and "bad10.png" not in message


def test_it_refuses_an_image_over_the_pixel_limit(make_zip, dest):
    upload = make_zip(with_splits({"train/dog/huge.png": image_bytes(size=(200, 101))}))
    limits = ImportLimits(max_image_pixels=200 * 100)
    with pytest.raises(DatasetImportError, match="train/dog/huge.png: image is 200x101 pixels; the limit is 20000"):
        import_archive(upload, "classification_folder", dest, limits)
    import_archive(upload, "classification_folder", dest, ImportLimits(max_image_pixels=200 * 101))


def png_header_only(width, height):
    """A PNG that declares width x height but holds no pixel data: a pixel bomb's header."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side, message", [
    (11_000, "image is 11000x11000 pixels; the limit is 100000000"),  # our default limit
    (50_000, "image too large"),  # beyond Pillow's own bomb guard
])
def test_it_refuses_a_pixel_bomb_with_default_limits(make_zip, dest, side, message):
    upload = make_zip(with_splits({"train/cat/bomb.png": png_header_only(side, side)}))
    with pytest.raises(DatasetImportError, match="train/cat/bomb.png: " + message):
        import_archive(upload, "classification_folder", dest)
