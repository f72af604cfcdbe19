"""The trainer every family trains through: its Recipe run by the shared engine, then the
model's evaluation report (trainers.evaluation) written into its artifact."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from trainers.core import Callbacks, DatasetSpec, FitResult
from trainers.engine import fit
from trainers.engine.recipe import Recipe

log = logging.getLogger("trainers")


class RecipeTrainer:
    def __init__(self, recipe: Recipe, work_dir: Path, dataset: DatasetSpec | None = None,
                 predictor_of: Callable[[Path], Any] | None = None):
        """`dataset`: the one the recipe trains on; `predictor_of(artifact_dir)`: the predictor a
        deployment would serve the artifact with. With both, the artifact gets its report."""
        self.recipe, self.work_dir, self.dataset, self.predictor_of = recipe, Path(work_dir), dataset, predictor_of

    def fit(self, callbacks: Callbacks | None = None) -> FitResult | None:
        result = fit(self.recipe, self.work_dir, callbacks)
        if result is not None and self.dataset is not None and self.predictor_of is not None:  # None: not rank 0
            from trainers.evaluation import write_report

            split = self.dataset.evaluation_split()
            try:
                if split is not None:
                    report = write_report(result.artifact_dir, self.dataset, split,
                                          self.predictor_of(result.artifact_dir))
                    log.info("evaluation report on %s: %d examples kept, %.1f s", split,
                             len(report["examples"]["items"]), report["seconds"])
            except Exception:  # noqa: BLE001  (the model is trained: a report it lacks is made on request)
                log.exception("the evaluation report of %s could not be made; the model is kept without one",
                              result.artifact_dir)
        return result
