"""The three training recipes behind the five templates.

- InceptionFamilyRecipe (InceptionBatchNorm, InceptionV2, ResNext): SGD, step decay.
- TransferEmbedNormRecipe: SGD with a slower base, constant rate, L2-normalised embedding.
- ResNetRSBA1Recipe: LAMB, linear warmup + cosine, square crops, configurable flips.
"""
from __future__ import annotations

from torch.optim.lr_scheduler import LambdaLR

from trainers.engine import optimizers, schedules

from .lamb import Lamb
from .shared_recipe import ClarifaiRecipe
from .transforms import min_side_transform, square_transform

SGD_MOMENTUM = 0.9
SGD_WEIGHT_DECAY = 1e-4  # fixed for the Inception family (no Clarifai parameter)
STEP_DECAY_GAMMA = 0.1  # the learning rate is multiplied by this every step_epochs
RSB_GRAD_CLIP_NORM = 1.0  # mmpretrain's Lamb max_grad_norm


class InceptionFamilyRecipe(ClarifaiRecipe):
    def transform(self, train: bool):
        return min_side_transform(self.params.image_size, train)

    def learning_rate(self) -> float:
        return self.global_batch() * self.params.per_item_lrate

    def build_optimizer(self, model):
        return optimizers.sgd(model.parameters(), lr=self.learning_rate(), momentum=SGD_MOMENTUM,
                               weight_decay=SGD_WEIGHT_DECAY)

    def build_scheduler(self, optimizer, steps_per_epoch: int, epochs: int):
        p = self.params
        return LambdaLR(optimizer, schedules.step_decay(steps_per_epoch, p.init_epochs, p.step_epochs,
                                                        STEP_DECAY_GAMMA))


class TransferEmbedNormRecipe(ClarifaiRecipe):
    def transform(self, train: bool):
        # No random flip: with average_horizontal_flips a mirror changes nothing anyway.
        return min_side_transform(self.params.image_size, train, flip_probability=0.0)

    def build_optimizer(self, model):
        p = self.params
        groups = [
            {"params": list(model.backbone_parameters()), "lr": p.lrate * p.base_gradient_multiplier,
             "name": "base"},
            {"params": list(model.head_parameters()), "lr": p.lrate, "name": "head"},
        ]
        return optimizers.sgd(groups, lr=p.lrate, momentum=SGD_MOMENTUM, weight_decay=SGD_WEIGHT_DECAY)


class ResNetRSBA1Recipe(ClarifaiRecipe):
    def transform(self, train: bool):
        p = self.params
        return square_transform(p.image_size, train, p.flip_probability, p.flip_direction)

    def grad_clip_norm(self) -> float | None:
        return RSB_GRAD_CLIP_NORM

    def learning_rate(self) -> float:
        return self.global_batch() * self.params.per_item_lrate

    def min_learning_rate(self) -> float:
        return self.global_batch() * self.params.per_item_min_lrate

    def build_optimizer(self, model):
        # RSB A1 (mmpretrain paramwise_cfg): no weight decay on normalization layers and biases.
        decay, no_decay = [], []
        for parameter in model.parameters():
            (no_decay if parameter.ndim <= 1 else decay).append(parameter)
        groups = [
            {"params": decay, "weight_decay": self.params.weight_decay, "name": "decay"},
            {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"},
        ]
        return Lamb(groups, lr=self.learning_rate())

    def build_scheduler(self, optimizer, steps_per_epoch: int, epochs: int):
        p, lr = self.params, self.learning_rate()
        min_factor = self.min_learning_rate() / lr if lr > 0 else 0.0
        return LambdaLR(optimizer, schedules.cosine_with_linear_warmup_scale(
            steps_per_epoch * epochs, p.warmup_iters, p.warmup_ratio, min_factor))
