"""Optuna's storage for the platform's studies: `optuna.storages.JournalStorage` over a journal
kept in the platform's own database (`JournalEntry` rows), through Optuna's documented
extension point, `BaseJournalBackend`.

Why not Optuna's RDBStorage: it opens a second connection pool beside Django's, and on the
embedded SQLite two pools writing at once is Optuna's "database is locked" (optuna #820).
Here every write is Django's, in the caller's transaction, on SQLite and PostgreSQL alike,
and a study is as durable as the jobs of its trials.
"""
from __future__ import annotations

from typing import Any, Iterable

import optuna
from django.db import IntegrityError, transaction
from django.db.models import Max
from optuna.storages import JournalStorage
from optuna.storages.journal import BaseJournalBackend

from platform_api.studies.models import JournalEntry
from platform_api.studies.search_space import grid_values

APPEND_ATTEMPTS = 20  # concurrent appends to one journal: each retry takes the next numbers


class StudyJournal(BaseJournalBackend):
    """The journal of one study: operations numbered 0, 1, 2... in the order they were
    appended, which is the order every process replays them in."""

    def __init__(self, study_id: int):
        self.study_id = study_id

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        return list(JournalEntry.objects.filter(study_id=self.study_id, number__gte=log_number_from)
                    .order_by("number").values_list("log", flat=True))

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        for attempt in range(APPEND_ATTEMPTS):
            try:
                with transaction.atomic():
                    last = JournalEntry.objects.filter(study_id=self.study_id).aggregate(last=Max("number"))["last"]
                    start = 0 if last is None else last + 1
                    JournalEntry.objects.bulk_create([JournalEntry(study_id=self.study_id, number=start + n, log=log)
                                                      for n, log in enumerate(logs)])
                return
            except IntegrityError:  # another process appended the same numbers first
                if attempt == APPEND_ATTEMPTS - 1:
                    raise


class GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid, without its stop at the last point: `Study.stop()` raises outside
    `optimize()`, and a study's n_trials (at most the grid's points) already ends it."""

    def after_trial(self, study, trial, state, values) -> None:
        pass


def sampler_for(study, space: dict, trials_so_far: int) -> optuna.samplers.BaseSampler:
    """The study's sampler, seeded by the study's seed and the trials made so far, so that
    proposals are repeatable and two asked one after the other differ."""
    seed = study.seed + trials_so_far
    if study.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if study.sampler == "grid":
        return GridSampler({name: grid_values(d) for name, d in space.items()}, seed=study.seed)
    # constant_liar: trials still running count as bad, so parallel trials spread out.
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


def pruner_for(study, max_epochs: int) -> optuna.pruners.BasePruner:
    """`max_epochs`: the most epochs a trial trains, Hyperband's largest resource (given, not
    'auto', so its brackets are the same in every process from the first trial on)."""
    if study.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    if study.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(max_epochs, 2))
    return optuna.pruners.NopPruner()


def load(study, space: dict, max_epochs: int, trials_so_far: int = 0) -> optuna.Study:
    """The study's Optuna study, rebuilt from its journal (created on first use: Optuna's
    create_study with load_if_exists would log a creation each time)."""
    storage, name = JournalStorage(StudyJournal(study.pk)), f"study-{study.pk}"
    sampler, pruner = sampler_for(study, space, trials_so_far), pruner_for(study, max_epochs)
    if JournalEntry.objects.filter(study_id=study.pk).exists():
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    return optuna.create_study(storage=storage, study_name=name, direction=study.direction, sampler=sampler,
                               pruner=pruner)
