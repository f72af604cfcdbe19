"""Hyperparameter studies: creation (every field checked, nothing queued on a refusal), the
driver step that moves a study on (`advance`), and cancellation.

`advance` runs under the study's row lock, in one transaction with the Optuna journal
(journal.py): asking Optuna for a trial, recording it and queueing its job commit together or
not at all, so a crash never loses a trial or runs one twice. It follows each running trial's
job: it reports each new evaluation to Optuna, prunes the trial when Optuna's pruner says so
(the job is cancelled and keeps its metrics), and tells Optuna the job's outcome. Any worker
runs it every few seconds (workers/study_driver.py); creating a study runs it once at once.
"""
from __future__ import annotations

import logging
import math

import optuna
from django.db import transaction
from django.utils import timezone

from platform_api.problems import Conflict, Invalid
from platform_api.studies import journal
from platform_api.studies.models import Study, Trial
from platform_api.studies.search_space import compile_space, grid_values, on_declared_grid
from platform_api.training.models import Job, MetricsEntry
from platform_api.training.services import JobAlreadyEnded, JobRejected, cancel_job, submission_target, submit_job
from training_templates.hyperparameter_specs import HyperparameterErrors, as_spec, resolve_hyperparameters
from training_templates.services import resolve_for_template, specs_for_template
from trainers.core import TrainerError
from trainers.families import hyperparameter_model, run_size

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("hyperband", "median", "none")
MAX_TRIALS = 1000
MAX_PARALLEL_TRIALS = 32
MAX_TOTAL_EPOCHS = 1_000_000  # 1000 trials of the longest run a template offers
# The metrics a study may be scored by, per task; "" (the default) is the metric the trainer
# itself monitors to keep its best epoch (accuracy, segm/AP, mIoU), maximized.
OBJECTIVES = {
    "classification": ("accuracy", "exact_match_accuracy", "f1_macro", "precision_macro", "recall_macro",
                       "f1_micro", "precision_micro", "recall_micro"),
    "instance_segmentation": ("segm/AP", "segm/AP50", "segm/AP75", "segm/APs", "segm/APm", "segm/APl"),
    "semantic_segmentation": ("mIoU", "pixel_accuracy"),
}


class StudyRejected(Invalid):
    """The study cannot be created; `errors` maps request fields to messages."""


class StudyEnded(Conflict):
    def __init__(self, message: str):
        super().__init__(message, "study_ended")


def create_study(owner, template_id: str, dataset_id: int, *, name: str = "", fixed: dict | None = None,
                 search_space: dict | str = "all", objective: dict | None = None, n_trials: int = 20,
                 max_parallel_trials: int = 1, sampler: str = "tpe", pruner: str = "hyperband",
                 max_total_epochs: int | None = None, seed: int = 0) -> Study:
    fixed = fixed or {}
    try:  # the template and the dataset, as a job's submission checks them
        template, dataset = submission_target(owner, template_id, dataset_id)
    except JobRejected as exc:
        raise StudyRejected(exc.errors) from None
    errors = {}
    try:
        resolve_for_template(template, fixed)
    except HyperparameterErrors as exc:
        errors["fixed"] = exc.errors
    specs = [as_spec(spec) for spec in specs_for_template(template)]
    space, problems = compile_space(specs, search_space, fixed, sampler)
    if problems:
        errors["search_space"] = problems
    metric, direction = _objective(objective or {}, dataset.task, errors)
    if sampler == "grid" and space and not problems:
        points = math.prod(len(grid_values(d)) for d in space.values())
        if n_trials > points:
            errors["n_trials"] = [f"the grid has {points} points; n_trials may be at most {points}"]
    if errors:
        raise StudyRejected(errors)
    narrowings = search_space if isinstance(search_space, dict) else {name: {} for name in space}
    with transaction.atomic():
        study = Study.objects.create(
            owner=owner, name=name, template=template, dataset=dataset, fixed=fixed, search_space=narrowings,
            objective=metric, direction=direction, n_trials=n_trials, max_parallel_trials=max_parallel_trials,
            sampler=sampler, pruner=pruner, max_total_epochs=max_total_epochs, seed=seed)
    advance_quietly(study.pk)  # its first trials queue at once; the workers' driver does the rest
    return study


def _objective(objective: dict, task: str, errors: dict) -> tuple[str, str]:
    allowed = OBJECTIVES.get(task, ())
    unknown = sorted(set(objective) - {"metric", "direction"})
    metric, direction = objective.get("metric") or "", objective.get("direction") or "maximize"
    problems = [f"unknown key {key!r}; an objective takes metric and direction" for key in unknown]
    if metric and metric not in allowed:
        problems.append(f"metric {metric!r} is not one a {task} trial reports; one of: {', '.join(allowed)} "
                        "(or leave it out: the trainer's monitored metric)")
    if direction not in ("maximize", "minimize"):
        problems.append(f"direction must be maximize or minimize, got {direction!r}")
    if problems:
        errors["objective"] = problems
    return metric, direction


def space_of(study: Study) -> dict:
    specs = [as_spec(spec) for spec in specs_for_template(study.template)]
    space, problems = compile_space(specs, study.search_space, study.fixed, study.sampler)
    if problems:  # the template was narrowed since: the study cannot go on as it was asked
        raise StudyRejected({"search_space": problems})
    return space


def cancel_study(study: Study) -> Study:
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        if study.status in Study.FINAL:
            raise StudyEnded(f"study {study.pk} has already ended ({study.status})")
        study.cancel_requested = True
        study.save(update_fields=["cancel_requested"])
    advance_quietly(study.pk)
    return Study.objects.get(pk=study.pk)


def advance_all() -> None:
    for study_id in Study.objects.exclude(status__in=Study.FINAL).values_list("pk", flat=True):
        advance_quietly(study_id)


def advance_quietly(study_id: int) -> None:
    """`advance`, logging what goes wrong: the driver tries again at its next pass."""
    try:
        advance(study_id)
    except Exception:
        log.exception("study %s: advancing it failed; the next pass tries again", study_id)


class CannotGoOn(Exception):
    """The study's template or dataset can no longer take a job: the study ends failed."""


def advance(study_id: int) -> None:
    with transaction.atomic():
        # Only the study's row (not its template's or dataset's), and none another worker is
        # moving on now: that one does this pass.
        study = (Study.objects.select_for_update(of=("self",), skip_locked=True)
                 .select_related("template", "dataset").filter(pk=study_id).first())
        if study is None or study.status in Study.FINAL:
            return
        try:
            space = space_of(study)
        except StudyRejected as exc:
            _end(study, Study.Status.FAILED, f"its search space no longer fits the template: {exc.errors}")
            return
        made = study.trials.count()
        optuna_study = journal.load(study, space, _most_epochs(study, space), trials_so_far=made)
        frozen = {trial.number: trial for trial in optuna_study.get_trials(deepcopy=False)}
        for trial in study.trials.filter(state=Trial.State.RUNNING).select_related("job"):
            _follow(study, optuna_study, frozen[trial.number], trial)
        running = study.trials.filter(state=Trial.State.RUNNING)
        if study.cancel_requested:
            for trial in running.select_related("job"):
                _stop(optuna_study, trial, Trial.State.FAILED, "the study was cancelled")
            _end(study, Study.Status.CANCELLED)
            return
        while made < study.n_trials and running.count() < study.max_parallel_trials and _within_budget(study):
            try:
                with transaction.atomic():  # the ask goes too when its job cannot be queued
                    _launch(study, optuna_study, space)
            except CannotGoOn as exc:
                for trial in running.select_related("job"):
                    _stop(optuna_study, trial, Trial.State.FAILED, str(exc))
                _end(study, Study.Status.FAILED, str(exc))
                return
            made += 1
        if not running.exists() and (made >= study.n_trials or not _within_budget(study)):
            complete = study.trials.filter(state=Trial.State.COMPLETE).exists()
            _end(study, Study.Status.SUCCEEDED if complete else Study.Status.FAILED,
                 "" if complete else "no trial completed")
        elif study.status == Study.Status.QUEUED:
            study.status = Study.Status.RUNNING
            study.save(update_fields=["status"])


def _launch(study: Study, optuna_study: optuna.Study, space: dict) -> None:
    asked = optuna_study.ask(fixed_distributions=space)
    values = {**study.fixed, **{name: on_declared_grid(name, value, space[name]) for name, value in asked.params.items()}}
    label = study.name or f"study {study.pk}"
    try:  # the validation every job gets, rules across parameters included
        job = submit_job(study.owner, study.template_id, study.dataset_id, values, name=f"{label} · trial {asked.number}")
    except JobRejected as exc:
        if set(exc.errors) - {"hyperparameters"}:  # not these values: the template or the dataset
            raise CannotGoOn(f"no trial can start: {_flat(exc.errors)}") from None
        optuna_study.tell(asked, state=optuna.trial.TrialState.FAIL)
        Trial.objects.create(study=study, number=asked.number, hyperparameters=values, state=Trial.State.FAILED,
                             message=f"refused before training: {_flat(exc.errors)}", finished_at=timezone.now())
        return
    Trial.objects.create(study=study, number=asked.number, job=job, hyperparameters=job.hyperparameters)


def _follow(study: Study, optuna_study: optuna.Study, frozen: optuna.trial.FrozenTrial, trial: Trial) -> None:
    job = trial.job
    if job is None:
        _stop(optuna_study, trial, Trial.State.FAILED, "its job was deleted")
        return
    values = _objective_values(study, job)
    reported = frozen.intermediate_values
    fresh = [(epoch, value) for epoch, value in values if epoch not in reported]
    if fresh:
        handle = optuna.trial.Trial(optuna_study, frozen._trial_id)  # a running trial, reported to from here
        for epoch, value in fresh:
            handle.report(value, step=epoch)
        trial.reported_epochs = len(reported) + len(fresh)
        trial.save(update_fields=["reported_epochs"])
        epoch, value = fresh[-1]
        # After its last epoch a trial has nothing left to save: it completes, and is ranked as
        # complete, even where Hyperband's top rung (its max_resource) would prune it.
        last = epoch >= _planned_epochs(study, trial.hyperparameters)
        if job.status not in Job.FINAL and not last and handle.should_prune():
            _stop(optuna_study, trial, Trial.State.PRUNED, f"pruned after epoch {epoch} ({value:g})")
            return
    if job.status == Job.Status.SUCCEEDED:
        scores = [value for _, value in values]
        if not scores:
            _stop(optuna_study, trial, Trial.State.FAILED, f"its job reported no {study.objective or 'monitored metric'}")
            return
        best = max(scores) if study.direction == "maximize" else min(scores)
        optuna_study.tell(trial.number, best)
        _finish(trial, Trial.State.COMPLETE, value=best)
    elif job.status in Job.FINAL:
        reason = f"{job.error_code}: {job.error_message}" if job.status == Job.Status.FAILED else f"its job was {job.status}"
        optuna_study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        _finish(trial, Trial.State.FAILED, message=reason)


def _objective_values(study: Study, job: Job) -> list[tuple[int, float]]:
    """(epoch, objective) of each evaluation the job reported, one per epoch (the latest)."""
    by_epoch = {}
    for entry in MetricsEntry.objects.filter(job=job).order_by("id"):
        value = entry.metrics.get(study.objective or entry.monitor)
        if isinstance(value, (int, float)) and math.isfinite(value):
            by_epoch[entry.epoch] = float(value)
    return sorted(by_epoch.items())


def _stop(optuna_study: optuna.Study, trial: Trial, state: str, message: str) -> None:
    """Ends a trial before its job does: the job is cancelled (it keeps its metrics)."""
    if trial.job is not None:
        try:
            cancel_job(trial.job)
        except JobAlreadyEnded:
            pass
    optuna_state = optuna.trial.TrialState.PRUNED if state == Trial.State.PRUNED else optuna.trial.TrialState.FAIL
    optuna_study.tell(trial.number, state=optuna_state)
    _finish(trial, state, message=message)


def _finish(trial: Trial, state: str, value: float | None = None, message: str = "") -> None:
    trial.state, trial.value, trial.message, trial.finished_at = state, value, message, timezone.now()
    trial.save(update_fields=["state", "value", "message", "finished_at"])


def _end(study: Study, status: str, error: str = "") -> None:
    study.status, study.error, study.finished_at = status, error, timezone.now()
    study.save(update_fields=["status", "error", "finished_at"])


def _within_budget(study: Study) -> bool:
    """No trial starts once the epochs trained by ended trials and planned by running ones
    reach max_total_epochs."""
    if study.max_total_epochs is None:
        return True
    used = 0
    for trial in study.trials.select_related("job"):
        if trial.job is None:
            continue
        if trial.state == Trial.State.RUNNING:
            used += _planned_epochs(study, trial.hyperparameters)
        else:
            used += _epochs_done(trial.job)
    return used < study.max_total_epochs


def epochs_trained(study: Study) -> float:
    """The compute the study's trials have spent, in epochs: the steps each job ran over its
    steps per epoch (a trial pruned mid-epoch counts the part it trained)."""
    return round(sum(_epochs_done(job) for job in Job.objects.filter(study_trial__study=study).only("progress")), 2)


def _epochs_done(job: Job) -> float:
    progress = job.progress or {}
    steps, epochs = progress.get("steps") or 0, progress.get("epochs") or 0
    return (progress.get("step") or 0) * epochs / steps if steps and epochs else 0.0


def _most_epochs(study: Study, space: dict) -> int:
    """The most epochs a trial of the study trains: the searched range's top, or the value
    fixed or defaulted."""
    field = hyperparameter_model(study.template.trainer).EPOCHS_FIELD
    if field in space:
        return int(getattr(space[field], "high", None) or max(space[field].choices))
    values = resolve_hyperparameters(specs_for_template(study.template), study.fixed)
    return int(values.get(field) or 1)


def _planned_epochs(study: Study, hyperparameters: dict) -> int:
    try:
        return run_size(study.template.trainer, hyperparameters, 0).epochs
    except TrainerError:
        return 0


def best_trial(study: Study) -> Trial | None:
    complete = study.trials.filter(state=Trial.State.COMPLETE).select_related("job", "job__model_version")
    order = "-value" if study.direction == "maximize" else "value"
    return complete.order_by(order, "number").first()


def _flat(errors) -> str:
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {_flat(value)}" for key, value in errors.items())
    if isinstance(errors, list):
        return " ".join(_flat(value) for value in errors)
    return str(errors)
