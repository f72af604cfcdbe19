"""Optuna's own plotly figures of a study, as JSON for the console (which serves plotly.js):
the best value so far against trial number, parameter importances (PED-ANOVA: NumPy only)
and parallel coordinates. Read from the study's journal; nothing is written."""
from __future__ import annotations

import json
import logging

import optuna
from optuna.storages import JournalStorage
from optuna.trial import TrialState

from platform_api.studies.journal import StudyJournal
from platform_api.studies.models import JournalEntry

log = logging.getLogger(__name__)


def figures(study) -> dict:
    empty = {"history": None, "importances": None, "parallel_coordinate": None}
    if not JournalEntry.objects.filter(study_id=study.pk).exists():  # no trial asked yet
        return empty
    optuna_study = optuna.load_study(study_name=f"study-{study.pk}", storage=JournalStorage(StudyJournal(study.pk)))
    complete = optuna_study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return empty
    from optuna.importance import PedAnovaImportanceEvaluator
    from optuna.visualization import plot_optimization_history, plot_parallel_coordinate, plot_param_importances

    drawn = {"history": lambda: plot_optimization_history(optuna_study),
             "parallel_coordinate": lambda: plot_parallel_coordinate(optuna_study)}
    if len(complete) >= 2:
        drawn["importances"] = lambda: plot_param_importances(optuna_study, evaluator=PedAnovaImportanceEvaluator())
    result = dict(empty)
    for name, draw in drawn.items():
        try:
            result[name] = json.loads(draw().to_json())
        except (ValueError, RuntimeError) as exc:  # too few distinct trials for that figure yet
            log.info("study %s: no %s figure yet (%s)", study.pk, name, exc)
    return result
