"""The fai-mf trainer's hyperparameters: their one declaration (trainers.hyperparameters).

num_classes is not a hyperparameter: it comes from the dataset.
"""
from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from trainers.backbone_names import BACKBONE_NAMES
from trainers.hyperparameters import (SYNC_BATCHNORM_DESCRIPTION, Hyperparameters, WeightsNeed,
                                      check_batch_norm_can_train, param, with_auto_values)

# Defaults that follow how the model starts, filled where a job leaves the value null ("auto").
# Mask2Former's settings assume a pretrained backbone: it learns at a tenth of the rate, and the
# whole gradient is clipped to 0.01. From random weights the backbone has as much to learn as the
# rest, and its early gradients are large, so clipping at 0.01 would cut every step to a crawl.
AUTO_DEFAULTS = {
    "pretrained": {"backbone_multiplier": 0.1, "grad_clip_norm": 0.01},
    "random": {"backbone_multiplier": 1.0, "grad_clip_norm": 1.0},
}



class FaiMfHyperparameters(Hyperparameters):
    backbone: Literal[BACKBONE_NAMES] = param('resnet50',
        'Feature extractor giving the 1/4, 1/8, 1/16 and 1/32 maps (torchvision architectures, '
        "built without downloading weights). resnet50 and resnet101 are Mask2Former's "
        "configurations, stdc2 (STDC-2 / STDCNet1446) the fai-mf-m-ade backbone and stdc1 "
        'its smaller sibling.')
    pretrained_weights: str = param('',
        'Name of a pretrained-weights file registered on this platform for the chosen backbone '
        '(e.g. an ImageNet state dict). Empty (default) = random initialisation. An unregistered '
        'name fails the job before training.')
    num_queries: int = param(100, 'Number of learnable object queries: the most segments one image can produce.', ge=1, le=300, step=1)
    resolution: int = param(640,
        'Images are resized to resolution x resolution for training and inference (masks are '
        "returned at the original size). Multiple of 32 (the backbone's coarsest stride).", ge=32, le=1536, step=32)
    pixel_decoder_out_dim: int = param(256, "Channels of the pixel decoder's 1/4-resolution mask features.", ge=16, le=1024, step=16)
    pixel_decoder_feat_dim: int = param(256,
        "Channels of the pixel decoder's FPN maps (1/32, 1/16, 1/8) and of its transformer encoder.", ge=16, le=1024, step=16)
    pixel_decoder_encoder_layers: int = param(6,
        'Transformer encoder layers (self-attention with 2-D sine positional encoding) on the 1/32 '
        'map before the FPN; 0 = plain FPN.', ge=0, le=12, step=1)
    transformer_predictor_hidden_dim: int = param(256,
        'Width of the queries and of the masked-attention transformer decoder (8 attention heads).', ge=16, le=1024, step=16)
    transformer_predictor_dec_layers: int = param(6,
        'Decoder layers (masked cross-attention, self-attention, FFN), attending the 1/32, 1/16 and'
        " 1/8 maps in turn; each layer's prediction is also supervised.", ge=1, le=12, step=1)
    head_out_dim: int = param(256,
        'Dimension of the per-query mask embedding, dotted with the mask features (projected to '
        'this size when it differs from pixel_decoder_out_dim).', ge=16, le=1024, step=16)
    postprocessing_type: Literal['auto', 'instance', 'semantic'] = param('auto',
        'How predictions become segments: instance = top-scoring query/class pairs, several per '
        "class; semantic = one class per pixel region. auto (default) follows the dataset's task.")
    mask_threshold: float = param(0.5, 'A pixel belongs to a predicted mask when its mask probability exceeds this.', ge=0.0, le=1.0)
    threshold: float = param(0.5,
        'Segments whose confidence is at or below this are not returned by predict. '
        '(Evaluation scores every segment: AP needs the low-confidence ones.)', ge=0.0, le=1.0)
    predict_all_pixels: bool = param(False,
        'Semantic only: give every pixel a class (argmax over classes of the query-weighted mask '
        'probabilities) and return one segment per class present, instead of one segment per '
        'confident query. Usually better for semantic segmentation.')
    learning_rate: float = param(0.0001,
        'AdamW learning rate of the pixel decoder and transformer decoder; the backbone gets '
        'learning_rate x backbone_multiplier. Linear warmup, then cosine decay to 0 at the last '
        "step. Mask2Former's rate, with pretrained_weights and from random weights alike.",
        ge=1e-07, le=0.1, log_scale=True)
    backbone_multiplier: float | None = param(None,
        'Backbone learning rate as a fraction of learning_rate; 0 freezes the backbone in effect. '
        'null = auto: 0.1 (Mask2Former) with pretrained_weights, 1.0 from random weights, where the '
        'backbone has as much to learn as the rest.', ge=0.0, le=1.0)
    weight_decay: float = param(0.05,
        'AdamW weight decay (not applied to normalisation layers and query/level embeddings). '
        "Mask2Former's value.", ge=0.0, le=1.0)
    epochs: int = param(50, 'Passes over the training split.', ge=1, le=1000, step=1)
    batch_size: int = param(8, 'Images per optimizer step; lower it if memory runs out.', ge=1, le=64, step=1)
    warmup_iters: int = param(10,
        "Optimizer steps of linear learning-rate warmup from 0.1% of learning_rate; Mask2Former's "
        "value. Less than the run's optimizer steps (ceil(training images / batch_size) x epochs).",
        ge=0, le=100000, step=1)
    grad_clip_norm: float | None = param(None,
        "Clip the global gradient norm of the whole model to this value; 0 = no clipping. null = "
        "auto: 0.01 (Mask2Former's full-model clipping) with pretrained_weights, 1.0 from random "
        "weights, whose early gradients are large and would be cut to a crawl.", ge=0.0, le=100.0)
    augmentation_strength: float = param(0.5,
        'Training augmentation: 0 = none; s > 0 = horizontal flip with probability 0.5 and a random'
        ' rescale by a factor in [1 - 0.5 s, 1 + s] followed by a random crop/pad back to '
        'resolution.', ge=0.0, le=1.0)
    seed: int = param(0, 'Random seed of initialisation, sampling and augmentation, for repeatable runs.', ge=0, le=2147483647, step=1)
    sync_batchnorm: bool = param(False, SYNC_BATCHNORM_DESCRIPTION)
    early_stopping_patience: int = param(0,
        'Stop after this many evaluations without improvement of the monitored metric (segm AP for '
        'instance, mIoU for semantic); 0 = never.', ge=0, le=100, step=1)

    @model_validator(mode="before")
    @classmethod
    def _auto_values_follow_pretrained_weights(cls, data):
        if isinstance(data, dict):
            start = "pretrained" if data.get("pretrained_weights") else "random"
            data = with_auto_values(data, AUTO_DEFAULTS[start])
        return data

    @model_validator(mode="after")
    def _batch_norm_can_train(self):
        check_batch_norm_can_train(self.batch_size, self.resolution, "resolution")
        return self


parse_hyperparameters = FaiMfHyperparameters.parse


def weights_needed(hp: FaiMfHyperparameters) -> WeightsNeed | None:
    """Weights are registered per backbone architecture."""
    if not hp.pretrained_weights:
        return None
    return WeightsNeed("pretrained_weights", hp.backbone, hp.pretrained_weights,
                       "leave pretrained_weights empty to start from random weights")
