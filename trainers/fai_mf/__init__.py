"""FAI-MF: Mask2Former instance and semantic segmentation.

The meta-architecture (`model.MaskFormer`) is built from separate parts, each in its
own module with no training-loop imports: a backbone adapter, `pixel_decoder`,
`transformer_decoder`, `matcher`, `criterion` and `postprocessing`. `recipe` plugs it
into the shared engine; `exportable` serves an artifact directory; `family` registers it.
"""

from . import family  # noqa: F401  (registers "fai_mf" with trainers.families)
