"""The trainer every family trains through: its Recipe run by the shared engine."""
from __future__ import annotations

from pathlib import Path

from trainers.core import Callbacks, FitResult
from trainers.engine import fit
from trainers.engine.recipe import Recipe


class RecipeTrainer:
    def __init__(self, recipe: Recipe, work_dir: Path):
        self.recipe, self.work_dir = recipe, Path(work_dir)

    def fit(self, callbacks: Callbacks | None = None) -> FitResult:
        return fit(self.recipe, self.work_dir, callbacks)
