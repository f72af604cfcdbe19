"""The model's configuration and Mask2Former's loss constants.

The fields the model shares with the hyperparameters take their defaults from the one
declaration (`hyperparameters.FaiMfHyperparameters`), and the recipe copies exactly those
fields (`SHARED_WITH_HYPERPARAMETERS`); the rest are the architecture's own.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from .hyperparameters import FaiMfHyperparameters

# Loss weights and point sampling of Mask2Former (Cheng et al. 2022, Sec. 4 / its configs).
CLASS_WEIGHT = 2.0
MASK_WEIGHT = 5.0
DICE_WEIGHT = 5.0
NO_OBJECT_WEIGHT = 0.1  # EOS_COEF: weight of the "no object" class in the CE loss
TRAIN_NUM_POINTS = 112 * 112  # 12544 points per mask for matching and the mask losses
OVERSAMPLE_RATIO = 3.0
IMPORTANCE_SAMPLE_RATIO = 0.75

POSTPROCESSING_TYPES = ("instance", "semantic")


def _declared(name: str):
    """The hyperparameter's declared default."""
    return field(default=FaiMfHyperparameters.model_fields[name].default)


@dataclass(frozen=True)
class MaskFormerConfig:
    num_classes: int
    num_queries: int = _declared("num_queries")
    resolution: int = _declared("resolution")
    backbone: str = _declared("backbone")
    pixel_decoder_out_dim: int = _declared("pixel_decoder_out_dim")  # channels of the 1/4 mask features
    pixel_decoder_feat_dim: int = _declared("pixel_decoder_feat_dim")  # channels of the FPN maps (1/32, 1/16, 1/8)
    pixel_decoder_encoder_layers: int = _declared("pixel_decoder_encoder_layers")  # on the 1/32 map; 0 = none
    transformer_predictor_hidden_dim: int = _declared("transformer_predictor_hidden_dim")
    transformer_predictor_dec_layers: int = _declared("transformer_predictor_dec_layers")
    head_out_dim: int = _declared("head_out_dim")  # mask embedding dim (mask features are projected to it)
    # The hyperparameter may say "auto": the recipe resolves it from the dataset's task.
    postprocessing_type: str = "instance"
    mask_threshold: float = _declared("mask_threshold")
    threshold: float = _declared("threshold")
    predict_all_pixels: bool = _declared("predict_all_pixels")
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


# What the recipe copies from the parsed hyperparameters into the model's configuration.
SHARED_WITH_HYPERPARAMETERS = tuple(f.name for f in fields(MaskFormerConfig)
                                    if f.name in FaiMfHyperparameters.model_fields and f.name != "postprocessing_type")
