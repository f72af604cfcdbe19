"""FAI-CLS hyperparameters: their one declaration (trainers.hyperparameters)."""
from __future__ import annotations

from typing import Literal

import pydantic

from trainers.backbone_names import BACKBONE_NAMES
from trainers.hyperparameters import (SYNC_BATCHNORM_DESCRIPTION, Hyperparameters, WeightsNeed,
                                      check_batch_norm_can_train, param)



class FaiClsHyperparameters(Hyperparameters):
    backbone: Literal[BACKBONE_NAMES] = param('resnet50',
        'Feature extractor, random init unless pretrained_weights is set: torchvision '
        'architectures, or STDC (stdc1 = STDC-Small / STDCNet813, stdc2 = STDC-Large / '
        'STDCNet1446).')
    features: Literal['res2', 'res3', 'res4', 'res5'] = param('res5', 'Backbone feature level fed to the head (res5 = highest level, stride 32).')
    num_layers: int = param(2,
        'Head depth. 1: AvgPool -> Flatten -> Dropout -> Linear. 2: AvgPool -> Flatten -> '
        'Linear(hidden_dim) -> ReLU -> Dropout -> Linear.', ge=1, le=2, step=1)
    hidden_dim: int = param(512, 'Hidden layer width of the two-layer head.', ge=8, le=4096, step=8)
    dropout_rate: float = param(0.2, 'Dropout probability in the head.', ge=0.0, le=0.9, step=0.01)
    multi_label: bool = param(False, 'Several classes per image: sigmoid per class with binary cross-entropy.')
    threshold: float = param(0.5, 'Multi-label: every class whose sigmoid is >= threshold is predicted (0 = every class).', ge=0.0, le=1.0, step=0.01)
    use_focal_loss: bool = param(False, 'Focal loss instead of (binary) cross-entropy.')
    focal_alpha: float = param(0.75, 'Focal loss alpha.', ge=0.0, le=1.0, step=0.01)
    focal_gamma: float = param(2.0, 'Focal loss gamma (0 = plain cross-entropy weighted by alpha).', ge=0.0, le=10.0, step=0.1)
    label_smoothing: float = param(0.0, 'Label smoothing factor.', ge=0.0, le=0.5, step=0.01)
    resolution: int = param(224, 'Images are resized to resolution x resolution.', ge=32, le=1024, step=16)
    batch_size: int = param(16, 'Images per optimizer step.', ge=1, le=256, step=1)
    epochs: int = param(10, 'Passes over the training split.', ge=1, le=500, step=1)
    learning_rate: float = param(0.001, 'Peak learning rate.', ge=1e-06, le=1.0, log_scale=True)
    weight_decay: float = param(0.0001, 'Decoupled (AdamW) or L2 weight decay on weights (not on biases and norm parameters).', ge=0.0, le=1.0)
    optimizer: Literal['adamw', 'adam', 'sgd'] = param('adamw', 'SGD uses momentum 0.9.')
    scheduler: Literal['cosine', 'step', 'constant'] = param('cosine', 'cosine: decay to 0 at the end; step: x0.1 after each third of the epochs; constant.')
    warmup_epochs: int = param(0, 'Linear learning-rate warmup from 0.1% of the peak.', ge=0, le=50, step=1)
    early_stopping_patience: int = param(0, 'Stop after this many epochs without improvement of the monitored metric (0 = off).', ge=0, le=100, step=1)
    seed: int = param(0, 'Seed of initialisation, sampling and augmentation.', ge=0, le=2147483647, step=1)
    horizontal_flip: float = param(0.5, 'Probability of a random horizontal flip in training.', ge=0.0, le=1.0, step=0.05)
    pretrained_weights: str = param('', 'Name of a registered weights file for the chosen backbone; empty = random initialisation.')
    sync_batchnorm: bool = param(False, SYNC_BATCHNORM_DESCRIPTION)

    @pydantic.model_validator(mode="after")
    def _warmup_ends_before_the_run(self):
        if self.warmup_epochs and self.warmup_epochs >= self.epochs:
            raise ValueError(f"warmup_epochs {self.warmup_epochs} must be less than epochs {self.epochs}: the "
                             "learning rate would never reach its peak")
        return self

    @pydantic.model_validator(mode="after")
    def _batch_norm_can_train(self):
        check_batch_norm_can_train(self.batch_size, self.resolution, "resolution")
        return self


parse_hyperparameters = FaiClsHyperparameters.parse


def weights_needed(hp: FaiClsHyperparameters) -> WeightsNeed | None:
    """Weights are registered per backbone architecture."""
    if not hp.pretrained_weights:
        return None
    return WeightsNeed("pretrained_weights", hp.backbone, hp.pretrained_weights,
                       "leave pretrained_weights empty to start from random weights")
