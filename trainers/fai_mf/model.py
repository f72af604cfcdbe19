"""The meta-architecture: backbone -> pixel decoder -> transformer decoder (+ criterion).

Built from its parts (`MaskFormer(backbone, pixel_decoder, transformer_decoder, criterion)`);
`build_mask_former(config)` assembles the standard parts from a `MaskFormerConfig`.
Images enter as float RGB in [0, 1]; ImageNet normalisation happens here so the data
pipeline and the predictor share it.
"""
from __future__ import annotations

import torch
from torch import nn

from .backbone_adapter import backbone_channels, build_feature_backbone, checked_backbone
from .config import MaskFormerConfig
from .criterion import SetCriterion
from .matcher import HungarianMatcher
from .pixel_decoder import FEATURE_NAMES, TransformerEncoderPixelDecoder
from .transformer_decoder import MultiScaleMaskedTransformerDecoder

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class MaskFormer(nn.Module):
    def __init__(
        self,
        backbone: nn.Module,
        pixel_decoder: TransformerEncoderPixelDecoder,
        transformer_decoder: MultiScaleMaskedTransformerDecoder,
        criterion: SetCriterion | None = None,
    ):
        super().__init__()
        self.backbone = backbone
        self.pixel_decoder = pixel_decoder
        self.transformer_decoder = transformer_decoder
        self.criterion = criterion
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> dict:
        """(B, 3, H, W) in [0, 1] -> {pred_logits (B, Q, K+1), pred_masks (B, Q, H/4, W/4), aux_outputs}."""
        all_features = self.backbone((images - self.pixel_mean) / self.pixel_std)
        features = {name: all_features[name] for name in FEATURE_NAMES}
        mask_features, multi_scale = self.pixel_decoder(features)
        return self.transformer_decoder(multi_scale, mask_features)

    def losses(self, outputs: dict, targets: list[dict]) -> dict[str, torch.Tensor]:
        """{"loss": weighted total, "loss_ce", "loss_mask", "loss_dice" (final layer), "loss_*_i"}."""
        losses = self.criterion(outputs, targets)
        return {"loss": self.criterion.weighted_total(losses), **losses}


def build_criterion(config: MaskFormerConfig) -> SetCriterion:
    matcher = HungarianMatcher(config.class_weight, config.mask_weight, config.dice_weight, config.num_points)
    return SetCriterion(
        config.num_classes, matcher,
        class_weight=config.class_weight, mask_weight=config.mask_weight, dice_weight=config.dice_weight,
        no_object_weight=config.no_object_weight, num_points=config.num_points,
        oversample_ratio=config.oversample_ratio, importance_sample_ratio=config.importance_sample_ratio,
    )


def build_mask_former(config: MaskFormerConfig, backbone: nn.Module | None = None) -> MaskFormer:
    backbone = checked_backbone(backbone) if backbone is not None else build_feature_backbone(config.backbone)
    pixel_decoder = TransformerEncoderPixelDecoder(
        backbone_channels(backbone),
        feat_dim=config.pixel_decoder_feat_dim,
        out_dim=config.pixel_decoder_out_dim,
        encoder_layers=config.pixel_decoder_encoder_layers,
        num_heads=config.num_heads,
        encoder_ffn_dim=config.encoder_ffn_dim,
    )
    transformer_decoder = MultiScaleMaskedTransformerDecoder(
        in_channels=config.pixel_decoder_feat_dim,
        mask_in_dim=config.pixel_decoder_out_dim,
        num_classes=config.num_classes,
        hidden_dim=config.transformer_predictor_hidden_dim,
        num_queries=config.num_queries,
        num_heads=config.num_heads,
        ffn_dim=config.decoder_ffn_dim,
        dec_layers=config.transformer_predictor_dec_layers,
        mask_dim=config.head_out_dim,
    )
    return MaskFormer(backbone, pixel_decoder, transformer_decoder, build_criterion(config))
