"""Dataset archive import: safe streaming zip extraction and the four dataset formats.

    result = import_archive(archive_path, "coco", dest_dir, ImportLimits())

Pure Python (no Django): the platform's dataset service passes paths and limits in.
Each format module registers itself in FORMATS on import.
"""
from . import classification_folder, coco, roboflow_coco, roboflow_seg  # noqa: F401  (register formats)
from .archive import check_archive
from .errors import DatasetImportError
from .importer import ImportResult, import_archive
from .limits import ImportLimits
from .formats import FORMATS, DatasetFormat, register_format

__all__ = [
    "check_archive",
    "FORMATS",
    "DatasetFormat",
    "DatasetImportError",
    "ImportLimits",
    "ImportResult",
    "import_archive",
    "register_format",
]
