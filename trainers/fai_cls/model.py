"""FAI-CLS: a registry backbone, one selected feature level, and a two-layer MLP head."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from trainers.backbones import build_backbone


def build_head(in_channels: int, num_classes: int, num_layers: int, hidden_dim: int, dropout_rate: float) -> nn.Sequential:
    if num_layers == 1:
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout_rate),
                             nn.Linear(in_channels, num_classes))
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, hidden_dim),
                         nn.ReLU(inplace=True), nn.Dropout(dropout_rate), nn.Linear(hidden_dim, num_classes))


class FAIClassification(nn.Module):
    def __init__(self, backbone: str, num_classes: int, features: str = "res5", num_layers: int = 2,
                 hidden_dim: int = 512, dropout_rate: float = 0.2):
        super().__init__()
        self.backbone = build_backbone(backbone)
        self.features = features
        self.head = build_head(self.backbone.out_channels[features], num_classes, num_layers, hidden_dim, dropout_rate)

    def forward(self, images: Tensor) -> Tensor:
        """Images [B, 3, H, W] -> logits [B, num_classes]. The backbone runs in the autocast
        precision of the caller; the head always in fp32, so confidences and thresholds keep
        fp32 precision in training, evaluation and predict alike."""
        features = self.backbone(images)[self.features]
        with torch.autocast(images.device.type, enabled=False):
            return self.head(features.float())


def build_model(hp, num_classes: int) -> FAIClassification:
    return FAIClassification(hp.backbone, num_classes, hp.features, hp.num_layers, hp.hidden_dim, hp.dropout_rate)
