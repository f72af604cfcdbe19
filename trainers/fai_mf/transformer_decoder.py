"""Mask2Former's multi-scale masked-attention transformer decoder.

Each layer is masked cross-attention -> self-attention -> FFN over the learnable
queries; layer i attends the pixel decoder map i % 3 (1/32, 1/16, 1/8 round robin).
The cross-attention of a layer only sees the foreground (sigmoid >= 0.5) of the mask
the previous prediction made for the same query; a query whose mask is empty sees
everything. Class and mask predictions are made before the first layer and after each
layer (deep supervision), so there are dec_layers + 1 predictions.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .position_encoding import PositionEmbeddingSine

NUM_LEVELS = 3
ATTENTION_MASK_THRESHOLD = 0.5


class CrossAttentionLayer(nn.Module):
    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, num_heads)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tgt, memory, attn_mask, pos, query_pos):
        out = self.attn(tgt + query_pos, memory + pos, memory, attn_mask=attn_mask, need_weights=False)[0]
        return self.norm(tgt + out)


class SelfAttentionLayer(nn.Module):
    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, num_heads)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tgt, query_pos):
        q = k = tgt + query_pos
        return self.norm(tgt + self.attn(q, k, tgt, need_weights=False)[0])


class FFNLayer(nn.Module):
    def __init__(self, dim: int, ffn_dim: int):
        super().__init__()
        self.linear1 = nn.Linear(dim, ffn_dim)
        self.linear2 = nn.Linear(ffn_dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tgt):
        return self.norm(tgt + self.linear2(F.relu(self.linear1(tgt))))


class MLP(nn.Module):
    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, num_layers: int):
        super().__init__()
        dims = [in_dim] + [hidden_dim] * (num_layers - 1) + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class MultiScaleMaskedTransformerDecoder(nn.Module):
    def __init__(
        self,
        in_channels: int,
        mask_in_dim: int,
        num_classes: int,
        hidden_dim: int = 256,
        num_queries: int = 100,
        num_heads: int = 8,
        ffn_dim: int = 2048,
        dec_layers: int = 6,
        mask_dim: int = 256,
    ):
        super().__init__()
        self.num_heads = num_heads
        self.dec_layers = dec_layers
        self.pe_layer = PositionEmbeddingSine(hidden_dim // 2)
        self.cross_attention = nn.ModuleList(CrossAttentionLayer(hidden_dim, num_heads) for _ in range(dec_layers))
        self.self_attention = nn.ModuleList(SelfAttentionLayer(hidden_dim, num_heads) for _ in range(dec_layers))
        self.ffn = nn.ModuleList(FFNLayer(hidden_dim, ffn_dim) for _ in range(dec_layers))
        self.decoder_norm = nn.LayerNorm(hidden_dim)
        self.query_feat = nn.Embedding(num_queries, hidden_dim)
        self.query_embed = nn.Embedding(num_queries, hidden_dim)
        self.level_embed = nn.Embedding(NUM_LEVELS, hidden_dim)
        self.input_proj = nn.ModuleList(
            nn.Conv2d(in_channels, hidden_dim, 1) if in_channels != hidden_dim else nn.Identity()
            for _ in range(NUM_LEVELS)
        )
        # head_out_dim may differ from the pixel decoder's out dim: project the mask features.
        self.mask_features_proj = nn.Conv2d(mask_in_dim, mask_dim, 1) if mask_in_dim != mask_dim else nn.Identity()
        self.class_embed = nn.Linear(hidden_dim, num_classes + 1)
        self.mask_embed = MLP(hidden_dim, hidden_dim, mask_dim, 3)

    def forward(self, multi_scale: list[torch.Tensor], mask_features: torch.Tensor) -> dict:
        assert len(multi_scale) == NUM_LEVELS
        mask_features = self.mask_features_proj(mask_features)
        batch = mask_features.shape[0]
        src, pos, sizes = [], [], []
        for i, feature in enumerate(multi_scale):
            sizes.append(feature.shape[-2:])
            # (HW, B, C) sequences, as nn.MultiheadAttention expects without batch_first.
            pos.append(self.pe_layer(feature).flatten(2).permute(2, 0, 1))
            projected = self.input_proj[i](feature).flatten(2) + self.level_embed.weight[i][None, :, None]
            src.append(projected.permute(2, 0, 1))

        query_pos = self.query_embed.weight.unsqueeze(1).repeat(1, batch, 1)
        output = self.query_feat.weight.unsqueeze(1).repeat(1, batch, 1)

        classes, masks = [], []
        logits, mask, attn_mask = self.predict(output, mask_features, sizes[0])
        classes.append(logits)
        masks.append(mask)
        for i in range(self.dec_layers):
            level = i % NUM_LEVELS
            # A query whose mask is empty everywhere would attend nothing (NaN): let it see all.
            attn_mask[torch.where(attn_mask.sum(-1) == attn_mask.shape[-1])] = False
            output = self.cross_attention[i](output, src[level], attn_mask, pos[level], query_pos)
            output = self.self_attention[i](output, query_pos)
            output = self.ffn[i](output)
            logits, mask, attn_mask = self.predict(output, mask_features, sizes[(i + 1) % NUM_LEVELS])
            classes.append(logits)
            masks.append(mask)

        return {
            "pred_logits": classes[-1],
            "pred_masks": masks[-1],
            "aux_outputs": [{"pred_logits": c, "pred_masks": m} for c, m in zip(classes[:-1], masks[:-1])],
        }

    def predict(self, output: torch.Tensor, mask_features: torch.Tensor, attn_size):
        """Class logits (B, Q, K+1), mask logits (B, Q, H/4, W/4), attention mask for the next layer."""
        decoded = self.decoder_norm(output).transpose(0, 1)
        logits = self.class_embed(decoded)
        mask_embed = self.mask_embed(decoded)
        masks = torch.einsum("bqc,bchw->bqhw", mask_embed, mask_features)
        # True = not allowed to attend. One copy per head: (B * heads, Q, HW).
        small = F.interpolate(masks, size=attn_size, mode="bilinear", align_corners=False)
        attn_mask = small.sigmoid().flatten(2) < ATTENTION_MASK_THRESHOLD
        attn_mask = attn_mask.unsqueeze(1).repeat(1, self.num_heads, 1, 1).flatten(0, 1).detach()
        return logits, masks, attn_mask
