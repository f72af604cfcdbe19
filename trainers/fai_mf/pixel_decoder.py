"""Pixel decoder: a transformer encoder on the 1/32 map followed by an FPN down to 1/4.

Replaces Mask2Former's multi-scale deformable attention (removed for portability: it needs a
custom CUDA kernel): standard encoder layers with a 2-D sine
positional encoding run on the coarsest map only, then a top-down FPN adds res4, res3
and res2. Outputs the 1/4 mask features and the 1/32, 1/16, 1/8 maps the transformer
decoder attends to (coarse to fine).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .position_encoding import PositionEmbeddingSine

FEATURE_NAMES = ("res2", "res3", "res4", "res5")  # strides 4, 8, 16, 32


def group_norm(channels: int) -> nn.GroupNorm:
    # 32 groups as in Mask2Former; fewer when a tiny config has fewer channels.
    return nn.GroupNorm(math.gcd(32, channels), channels)


def conv_norm(in_ch: int, out_ch: int, kernel: int, relu: bool = True) -> nn.Sequential:
    conv = nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2, bias=False)
    nn.init.kaiming_uniform_(conv.weight, a=1)
    layers = [conv, group_norm(out_ch)] + ([nn.ReLU(inplace=True)] if relu else [])
    return nn.Sequential(*layers)


class EncoderLayer(nn.Module):
    """Post-norm transformer encoder layer whose attention adds the positional encoding to q, k."""

    def __init__(self, dim: int, num_heads: int, ffn_dim: int, dropout: float = 0.0):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(dim, ffn_dim)
        self.linear2 = nn.Linear(ffn_dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        q = k = src + pos
        src = self.norm1(src + self.dropout(self.self_attn(q, k, src, need_weights=False)[0]))
        ffn = self.linear2(self.dropout(F.relu(self.linear1(src))))
        return self.norm2(src + self.dropout(ffn))


class TransformerEncoderPixelDecoder(nn.Module):
    def __init__(
        self,
        in_channels: dict[str, int],
        feat_dim: int,
        out_dim: int,
        encoder_layers: int,
        num_heads: int = 8,
        encoder_ffn_dim: int = 1024,
    ):
        super().__init__()
        self.feat_dim = feat_dim
        self.out_dim = out_dim
        self.input_proj = nn.Conv2d(in_channels["res5"], feat_dim, 1)
        nn.init.xavier_uniform_(self.input_proj.weight)
        nn.init.zeros_(self.input_proj.bias)
        self.pe_layer = PositionEmbeddingSine(feat_dim // 2)
        self.encoder = nn.ModuleList(
            EncoderLayer(feat_dim, num_heads, encoder_ffn_dim) for _ in range(encoder_layers)
        )
        self.res5_output = conv_norm(feat_dim, feat_dim, 3)
        # Top-down path, coarse to fine: res4, res3, res2.
        # As Mask2Former's FPN: lateral 1x1 + norm (no activation), output 3x3 + norm + ReLU.
        self.lateral = nn.ModuleDict({n: conv_norm(in_channels[n], feat_dim, 1, relu=False) for n in FEATURE_NAMES[:3]})
        self.output = nn.ModuleDict({n: conv_norm(feat_dim, feat_dim, 3) for n in FEATURE_NAMES[:3]})
        # 1x1 as in Mask2Former's pixel decoder: a 3x3 conv at 1/4 resolution costs as much as the backbone.
        self.mask_features = nn.Conv2d(feat_dim, out_dim, 1)
        nn.init.kaiming_uniform_(self.mask_features.weight, a=1)
        nn.init.zeros_(self.mask_features.bias)

    def encode_res5(self, res5: torch.Tensor) -> torch.Tensor:
        x = self.input_proj(res5)
        if len(self.encoder):
            b, c, h, w = x.shape
            pos = self.pe_layer(x).flatten(2).transpose(1, 2)
            tokens = x.flatten(2).transpose(1, 2)
            for layer in self.encoder:
                tokens = layer(tokens, pos)
            x = tokens.transpose(1, 2).reshape(b, c, h, w)
        return self.res5_output(x)

    def forward(self, features: dict[str, torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Returns (mask features at 1/4 with out_dim channels, [1/32, 1/16, 1/8] maps)."""
        y = self.encode_res5(features["res5"])
        multi_scale = [y]
        for name in ("res4", "res3", "res2"):
            lateral = self.lateral[name](features[name])
            y = lateral + F.interpolate(y, size=lateral.shape[-2:], mode="nearest")
            y = self.output[name](y)
            if name != "res2":
                multi_scale.append(y)
        return self.mask_features(y), multi_scale
