"""A BoringModel-style recipe for engine tests: random 3x8x8 images, a conv + dropout model."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset

from trainers.engine import EngineConfig, Recipe, schedules


class ToyRecipe(Recipe):
    def __init__(self, config: EngineConfig, n_items: int = 24, scripted_metrics: list[float] | None = None):
        self.config = config
        g = torch.Generator().manual_seed(123)
        self.images = torch.randn(n_items, 3, 8, 8, generator=g)
        self.labels = (self.images[:, 0].mean(dim=(1, 2)) > 0).long()
        self.scripted = scripted_metrics
        self.evaluations = 0
        self.started_with_resume: list[bool] = []

    def build_model(self):
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                             nn.Flatten(), nn.Dropout(0.3), nn.Linear(4, 2))

    def train_dataset(self):
        return TensorDataset(self.images, self.labels)

    def train_step(self, model, batch, device):
        images, labels = batch
        self.step_context = {"channels_last": images.is_contiguous(memory_format=torch.channels_last),
                             "autocast": torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu")}
        return {"loss": nn.functional.cross_entropy(model(images), labels)}

    def build_optimizer(self, model):
        return torch.optim.AdamW(model.parameters(), lr=0.05)

    def build_scheduler(self, optimizer, steps_per_epoch, epochs):
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, schedules.warmup_cosine(steps_per_epoch * epochs, 2, 0.1, 0.0))

    def evaluate(self, model, device):
        self.evaluations += 1
        if self.scripted is not None:
            return {"accuracy": self.scripted[self.evaluations - 1]}
        logits = model(self.images.to(device))
        return {"accuracy": (logits.argmax(1).cpu() == self.labels).float().mean().item()}

    def export(self, model, artifact_dir: Path, metrics):
        torch.save(model.state_dict(), artifact_dir / "weights.pt")
        (artifact_dir / "config.json").write_text(json.dumps({"trainer": "toy"}))
        (artifact_dir / "labels.json").write_text(json.dumps(["neg", "pos"]))

    def on_train_start(self, model, resumed):
        self.started_with_resume.append(resumed)


def toy_config(**overrides) -> EngineConfig:
    values = dict(epochs=4, batch_size=5, seed=7, device="cpu", precision="fp32", channels_last=True)
    values.update(overrides)
    return EngineConfig(**values)
