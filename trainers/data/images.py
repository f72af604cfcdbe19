"""Opening images the way people see them: upright, as their EXIF orientation says.

Cameras and phones store pixels as the sensor read them and record the rotation in the
EXIF Orientation tag; browsers, labelling tools and Roboflow exports show (and annotate)
the rotated image. Training, evaluation, import and predict all open images through here,
so they agree on one frame.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

ORIENTATION_TAG = 0x0112
_SWAPS_SIDES = frozenset({5, 6, 7, 8})  # orientations that rotate by 90 or 270 degrees


def exif_orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(ORIENTATION_TAG, 1))
    except Exception:  # malformed EXIF: show the pixels as stored
        return 1


def upright(image: Image.Image) -> Image.Image:
    """The image rotated/mirrored as its EXIF orientation says (itself when there is none)."""
    return ImageOps.exif_transpose(image) if exif_orientation(image) in range(2, 9) else image


def upright_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) as shown, read from the header without decoding pixels."""
    width, height = image.size
    return (height, width) if exif_orientation(image) in _SWAPS_SIDES else (width, height)


def unreadable_reason(exc: Exception) -> str:
    """Why Pillow could not read an image, without the file it names: its messages carry
    the server's path of the file, or `<_io.BytesIO object at 0x...>` for bytes."""
    if isinstance(exc, UnidentifiedImageError):
        return "cannot identify the image format (not an image, or a format Pillow does not read)"
    if isinstance(exc, OSError) and exc.filename is not None:
        return exc.strerror or type(exc).__name__
    return str(exc) or type(exc).__name__


def open_rgb(path: Path) -> Image.Image:
    """A decoded, upright RGB image."""
    with Image.open(path) as image:
        return upright(image).convert("RGB")
