"""Hyperparameters of the five Clarifai templates: their one declaration (trainers.hyperparameters).

Bounds the Clarifai documentation states are hard requirements; the others are
ours, and their descriptions say "not stated by Clarifai".
"""
from __future__ import annotations

import math
from typing import Literal

import pydantic

from trainers.hyperparameters import (SYNC_BATCHNORM_DESCRIPTION, Hyperparameters, check_batch_norm_can_train, param,
                                      with_auto_values)


def _num_items_per_epoch():
    return param(None,
        'Images per epoch. null (the default) = the number of images in the training split; a '
        'larger value samples with replacement, a smaller one a random subset each epoch. Minimum 1'
        ' and step 1 (not stated by Clarifai).', ge=1, step=1)


class ClarifaiHyperparameters(Hyperparameters):
    EPOCHS_FIELD = "num_epochs"
    SIDE_FIELD = "image_size"
    # Not a Clarifai parameter, so the templates do not offer it: it makes runs repeatable.
    seed: int = param(0, "Seed of initialisation, sampling and augmentation.", ge=0, le=2147483647, step=1)


class _TrainsBatchNormalization(ClarifaiHyperparameters):
    """Templates whose backbone trains batch normalization (every one; the subclasses declare
    batch_size and image_size)."""

    sync_batchnorm: bool = param(False, SYNC_BATCHNORM_DESCRIPTION)

    @pydantic.model_validator(mode="after")
    def _batch_normalization_has_values_to_normalize(self):
        # Averaging the image with its mirror (TransferEmbedNorm) gives two values per channel.
        if not getattr(self, "average_horizontal_flips", False):
            check_batch_norm_can_train(self.batch_size, self.image_size, "image_size")
        return self


class _ConceptClassifierParams(_TrainsBatchNormalization):
    logreg: int = param(1,
        '1 = logistic regression: one sigmoid unit per concept trained with binary cross-entropy, '
        'so several concepts can be true (P > 0.5) for one input; prediction returns every concept '
        'with its own probability. 0 = softmax trained with cross-entropy for mutually exclusive '
        'concepts; the predicted probabilities sum to 1 (a multi-label training target is spread '
        'evenly over its concepts).', ge=0, le=1, step=1)
    image_size: int = param(256,
        'Input image size: the minimum side. Each image is resized keeping its aspect ratio so its '
        'short side equals image_size, then cropped to an image_size x image_size square so images '
        'batch together (random crop in training, centre crop at evaluation and inference). Smaller'
        ' is faster and uses less memory; larger keeps more detail. Our default (not stated by '
        'Clarifai).', ge=32, le=1024, step=16)
    batch_size: int = param(64,
        'Images per training step (stochastic gradient descent on a random batch). Consider about '
        '2x the number of concepts. Our default (not stated by Clarifai).', ge=1, le=128, step=1)


# Auto schedule: one tenfold decrease of the rate, for the last quarter of the run.
AUTO_INIT_FRACTION = 0.75


class InceptionFamilyParams(_ConceptClassifierParams):
    """Clarifai_InceptionBatchNorm, Clarifai_InceptionV2 and Clarifai_ResNext."""

    init_epochs: int | None = param(None,
        'Epochs run at the initial learning rate before its first decrease; the rate is then '
        'multiplied by 0.1. null (the default) = auto: three quarters of num_epochs, rounded up '
        '(not stated by Clarifai). At most num_epochs.', ge=1, le=200, step=1)
    step_epochs: int | None = param(None,
        'Epochs between learning-rate decreases after init_epochs; each decrease multiplies the '
        'rate by 0.1. null (the default) = auto: num_epochs, so the rate is decreased once, for the '
        'last quarter of the run (not stated by Clarifai). At most num_epochs.', ge=1, le=200, step=1)
    num_epochs: int = param(60,
        'Total number of epochs to train (an epoch is num_items_per_epoch images). Our default (not '
        'stated by Clarifai).', ge=1, le=200, step=1)
    per_item_lrate: float = param(0.00015625,
        'Initial learning rate per item; the rate of each optimizer step is batch_size * '
        'per_item_lrate. The default is 0.01 per step at batch 64; it and the absence of a maximum '
        'are ours (not stated by Clarifai).', ge=0.0)
    num_items_per_epoch: int | None = _num_items_per_epoch()

    @pydantic.model_validator(mode="before")
    @classmethod
    def _auto_schedule_follows_num_epochs(cls, data):
        if isinstance(data, dict):
            epochs = data.get("num_epochs", cls.model_fields["num_epochs"].default)
            if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 1:  # else its own check refuses
                data = with_auto_values(data, {"init_epochs": math.ceil(AUTO_INIT_FRACTION * epochs),
                                               "step_epochs": epochs})
        return data

    @pydantic.model_validator(mode="after")
    def _schedule_fits_the_run(self):
        for name in ("init_epochs", "step_epochs"):
            if getattr(self, name) > self.num_epochs:
                raise ValueError(f"{name} {getattr(self, name)} is more than num_epochs {self.num_epochs}: the "
                                 "rate would never be decreased there; lower it, or leave it null (auto)")
        return self


class InceptionV2Params(InceptionFamilyParams):
    # From random weights: BN-Inception's 0.045 per step (the paper's rate) at batch 64.
    per_item_lrate: float = param(0.000703125,
        'Initial learning rate per item; the rate of each optimizer step is batch_size * '
        "per_item_lrate. The default is the BN-Inception paper's 0.045 per step at batch 64; it and "
        'the absence of a maximum are ours (not stated by Clarifai).', ge=0.0)


class TransferEmbedNormParams(_ConceptClassifierParams):
    lrate: float = param(0.01,
        'Learning rate per minibatch (per optimizer step) of the classification head; constant '
        'during training. Our default, and no maximum (not stated by Clarifai).', ge=0.0)
    base_gradient_multiplier: float = param(0.1,
        "The base (backbone) model's learning rate is lrate x base_gradient_multiplier; 0 freezes "
        'its weights (batch-norm statistics still adapt). Our default, minimum 0 and no maximum '
        '(not stated by Clarifai).', ge=0.0)
    num_epochs: int = param(30,
        'Total number of epochs to train (an epoch is num_items_per_epoch images). Our default (not '
        'stated by Clarifai).', ge=1, le=200, step=1)
    num_items_per_epoch: int | None = _num_items_per_epoch()
    average_horizontal_flips: bool = param(True,
        'If true, the embedding is the mean of the embeddings of the image and of its horizontal '
        'mirror (in training and at inference), so predictions do not change when an image is '
        'mirrored. Our default (not stated by Clarifai).')


# RSB A1's per-item rate by pretrained_weights, where a job leaves it null (auto).
RSB_AUTO_PER_ITEM_LRATE = {"ImageNet-1k": 2.44140625e-06, "None": 7.8125e-05}


class ResNetRSBA1Params(_TrainsBatchNormalization):
    image_size: int = param(224,
        'Side of the square training/inference image. Smaller is faster and uses less memory; '
        'larger keeps more detail. Our default, and the bounds and step of the Inception '
        "templates' grid (not stated by Clarifai for this template).", ge=32, le=1024, step=16)
    batch_size: int = param(64,
        'Images per training step; consider about 2x the number of concepts. Our default (not stated'
        ' by Clarifai).', ge=1, le=256, step=1)
    num_epochs: int = param(100,
        'Total number of epochs (an epoch is one pass over the training split). Our default (not '
        'stated by Clarifai); RSB A1 itself trains 600.', ge=1, le=600, step=1)
    per_item_lrate: float | None = param(None,
        'Initial learning rate per item; the rate of each optimizer step is batch_size * '
        'per_item_lrate (reached at the end of the warmup). null (the default) = auto, from '
        "pretrained_weights: 2.44140625e-06 with ImageNet-1k weights (RSB A1's 5e-3 at batch 2048, "
        "gentle enough to fine-tune); 7.8125e-05 from random weights (RSB A1's 5e-3 at batch 64: "
        "LAMB scales each layer's step by its weight norm, so a network learning from scratch "
        'needs the full rate). No maximum (not stated by Clarifai).', ge=0.0)
    weight_decay: float = param(0.01,
        'Weight decay of LAMB (on convolution and linear weights; normalization layers and biases '
        "are not decayed). RSB A1's value (not stated by Clarifai).", ge=0.0, le=1.0)
    per_item_min_lrate: float = param(4.8828125e-10,
        'Learning rate per item at the end of the cosine schedule; the final step rate is '
        'batch_size * per_item_min_lrate (times the warmup scale if the warmup outlasts the run). '
        "The default is RSB A1's 1e-6 at batch 2048 (not stated by Clarifai).", ge=0.0)
    warmup_iters: int = param(20,
        'Optimizer steps of linear warmup: the cosine-annealed rate is scaled from warmup_ratio x '
        "up to 1x over these steps (mmcv's linear warmup); the cosine itself spans the whole run, "
        'so training ends at the minimum however long the warmup. 0 = no warmup. The default: RSB '
        "A1 warms up for 1% of its run, and 20 steps is 2% of the default 100 epochs over 640 "
        'images; a warmup near the run\'s length keeps the rate low throughout, so it must be less '
        "than the run's optimizer steps (ceil(training images / batch_size) x num_epochs; not stated "
        'by Clarifai).', ge=0, step=1)
    warmup_ratio: float = param(0.0001,
        'Learning-rate multiplier at the first warmup step (the warmup rises linearly from '
        "warmup_ratio x lr to lr). RSB A1's value; bounds 0-1 (not stated by "
        'Clarifai).', ge=0.0, le=1.0)
    pretrained_weights: Literal['None', 'ImageNet-1k'] = param('ImageNet-1k',
        "Initial weights: 'None' = random, 'ImageNet-1k' = the ResNet-50 ImageNet-1k weights "
        'registered on this platform (the job fails before training when none are registered).')
    flip_probability: float = param(0.5, 'Probability that a training image is flipped. Our default (not stated by Clarifai).', ge=0.0, le=1.0)
    flip_direction: Literal['horizontal', 'vertical'] = param('horizontal',
        "Direction of the random training flip: 'horizontal' mirrors left-right, 'vertical' upside-"
        "down.")

    @pydantic.model_validator(mode="before")
    @classmethod
    def _auto_rate_follows_pretrained_weights(cls, data):
        if isinstance(data, dict) and data.get("per_item_lrate") is None:
            start = data.get("pretrained_weights", cls.model_fields["pretrained_weights"].default)
            if start in RSB_AUTO_PER_ITEM_LRATE:  # anything else fails the field's own check
                data = with_auto_values(data, {"per_item_lrate": RSB_AUTO_PER_ITEM_LRATE[start]})
        return data


def parse(model: type[ClarifaiHyperparameters], hyperparameters: dict) -> ClarifaiHyperparameters:
    return model.parse(hyperparameters)
