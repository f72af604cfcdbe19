"""Resource limits an import enforces (archive bombs, pixel bombs, huge archives)."""
from pydantic import BaseModel, ConfigDict, PositiveInt

GiB = 1024**3
MiB = 1024**2


class ImportLimits(BaseModel):
    """Bounds checked against declared sizes first, then against bytes actually written.

    - max_uncompressed_bytes: all extracted members together.
    - max_files: members in the archive (junk included: it still costs work to list).
    - max_member_bytes: a single member.
    - max_compression_ratio: uncompressed / compressed size of one member; only checked
      for members larger than `ratio_check_min_bytes`, because small highly compressible
      files (a blank BMP, a JSON file) are harmless and a bomb needs a large output.
    - max_image_pixels: width * height of one image or mask, checked from the header
      before any pixel is decoded.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_uncompressed_bytes: PositiveInt = 20 * GiB
    max_files: PositiveInt = 1_000_000
    max_member_bytes: PositiveInt = 4 * GiB
    max_compression_ratio: PositiveInt = 200
    ratio_check_min_bytes: PositiveInt = 1 * MiB
    max_image_pixels: PositiveInt = 100_000_000
