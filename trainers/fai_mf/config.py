"""Model configuration (seed 002's parameters with their defaults) and loss constants."""
from __future__ import annotations

from dataclasses import dataclass

# Loss weights and point sampling of Mask2Former (Cheng et al. 2022, Sec. 4 / its configs).
CLASS_WEIGHT = 2.0
MASK_WEIGHT = 5.0
DICE_WEIGHT = 5.0
NO_OBJECT_WEIGHT = 0.1  # EOS_COEF: weight of the "no object" class in the CE loss
TRAIN_NUM_POINTS = 112 * 112  # 12544 points per mask for matching and the mask losses
OVERSAMPLE_RATIO = 3.0
IMPORTANCE_SAMPLE_RATIO = 0.75

POSTPROCESSING_TYPES = ("instance", "semantic")


@dataclass(frozen=True)
class MaskFormerConfig:
    num_classes: int
    num_queries: int = 100
    resolution: int = 640
    backbone: str = "resnet50"
    pixel_decoder_out_dim: int = 256  # channels of the 1/4 mask features
    pixel_decoder_feat_dim: int = 256  # channels of the FPN maps (1/32, 1/16, 1/8)
    pixel_decoder_encoder_layers: int = 6  # transformer encoder layers on the 1/32 map; 0 = none
    transformer_predictor_hidden_dim: int = 256
    transformer_predictor_dec_layers: int = 6
    head_out_dim: int = 256  # mask embedding dim (mask features are projected to it if they differ)
    postprocessing_type: str = "instance"
    mask_threshold: float = 0.5
    threshold: float = 0.5
    predict_all_pixels: bool = False
    # Attention sizes: Mask2Former's defaults; tiny test configs shrink them.
    num_heads: int = 8
    encoder_ffn_dim: int = 1024
    decoder_ffn_dim: int = 2048
    # Loss configuration (named so tiny configs can sample fewer points).
    class_weight: float = CLASS_WEIGHT
    mask_weight: float = MASK_WEIGHT
    dice_weight: float = DICE_WEIGHT
    no_object_weight: float = NO_OBJECT_WEIGHT
    num_points: int = TRAIN_NUM_POINTS
    oversample_ratio: float = OVERSAMPLE_RATIO
    importance_sample_ratio: float = IMPORTANCE_SAMPLE_RATIO

    def __post_init__(self):
        if self.postprocessing_type not in POSTPROCESSING_TYPES:
            raise ValueError(f"postprocessing_type must be one of {POSTPROCESSING_TYPES}")
        for name in ("transformer_predictor_hidden_dim", "pixel_decoder_feat_dim"):
            if getattr(self, name) % self.num_heads:
                raise ValueError(f"{name} must be divisible by num_heads={self.num_heads}")
