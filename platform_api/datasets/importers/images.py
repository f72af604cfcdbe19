"""Which files are images, and proof that each one decodes."""
from __future__ import annotations

import warnings
from pathlib import Path, PurePosixPath

from PIL import Image

from trainers.data.images import unreadable_reason, upright_size

from .errors import DatasetImportError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"})
MAX_REPORTED = 10


def is_image_path(relative: str) -> bool:
    return PurePosixPath(relative).suffix.lower() in IMAGE_EXTENSIONS


def open_image(path: Path, relative: str, max_pixels: int) -> Image.Image:
    """Decode the image (first frame for GIF/TIFF) or raise naming `relative`.

    The pixel count is checked from the header before any pixel is decoded.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
        width, height = upright_size(image)
        if width * height > max_pixels:
            image.close()
            raise DatasetImportError(
                f"{relative}: image is {width}x{height} pixels; the limit is {max_pixels} pixels"
            )
        image.load()
        return image
    except DatasetImportError:
        raise
    except Image.DecompressionBombError as exc:
        raise DatasetImportError(f"{relative}: image too large ({exc})") from exc
    except Exception as exc:  # PIL raises many types (OSError, SyntaxError, ValueError, ...)
        raise DatasetImportError(f"{relative}: cannot decode image ({unreadable_reason(exc)})") from exc


def image_size(path: Path, relative: str, max_pixels: int) -> tuple[int, int]:
    """(width, height) of a fully decoded image, upright (after its EXIF orientation)."""
    with open_image(path, relative, max_pixels) as image:
        return upright_size(image)


class ImageChecker:
    """Decodes every image and collects failures, so one import reports up to
    MAX_REPORTED bad files at once instead of making the user fix them one per upload."""

    def __init__(self, root: Path, max_pixels: int):
        self.root = root
        self.max_pixels = max_pixels
        self.problems: list[str] = []
        self.failed = 0

    def size(self, relative: str) -> tuple[int, int] | None:
        """(width, height), or None after recording why the image is unusable."""
        try:
            return image_size(self.root / relative, relative, self.max_pixels)
        except DatasetImportError as exc:
            self.record(exc.message)
            return None

    def record(self, problem: str) -> None:
        self.failed += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)

    def raise_if_failed(self) -> None:
        if not self.failed:
            return
        if self.failed == 1:
            raise DatasetImportError(self.problems[0])
        shown = f", the first {len(self.problems)}" if self.failed > len(self.problems) else ""
        raise DatasetImportError(f"{self.failed} bad images{shown}: " + "; ".join(self.problems))
