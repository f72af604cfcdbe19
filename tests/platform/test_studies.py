"""Hyperparameter studies through the REST API: refused input names its field and queues
nothing; a study's trials are ordinary jobs (run here in-process by the real runner) that
Optuna proposes from the template's bounds, prunes from their evaluations, and scores."""
import pytest
from django.db import transaction

from platform_api.datasets.models import Dataset
from platform_api.studies import services
from platform_api.studies.models import JournalEntry, Study, Trial
from platform_api.training.models import Job, MetricsEntry
from platform_api.training.runner import run_job
from tests.factories import store_manifest
from tests.platform.flows import FAST_FAI_CLS, deploy_ready, held_out, predict_base64
from tests.queueing import TRAIN_JOB, queued
from training_templates.hyperparameter_specs import resolve_hyperparameters
from training_templates.models import Template
from training_templates.services import specs_for_template

pytestmark = pytest.mark.django_db(transaction=True)
FIXED = {name: value for name, value in FAST_FAI_CLS.items() if name != "learning_rate"}


def create(api, dataset, **fields):
    body = {"template": "fai-cls", "dataset": dataset.pk, "n_trials": 3, "fixed": FIXED,
            "search_space": {"learning_rate": {"min": 0.001, "max": 0.1}}, **fields}
    return api.post("/api/v1/studies/", body, format="json")


@pytest.mark.parametrize("fields, field, message", [
    ({"search_space": {"colour": {}}}, "search_space", "unknown hyperparameter"),
    ({"fixed": {**FIXED, "epochs": 2.5}}, "fixed", "must be an integer"),
    ({"fixed": {**FIXED, "resolution": 40}}, "fixed", "must be a multiple of 16 from 32 to 1024, got 40"),
    ({"search_space": {"learning_rate": {"min": 0.001, "max": 5.0}}}, "search_space", "max offers 5.0"),
    ({"n_trials": 0}, "n_trials", "greater than or equal to 1"),
    ({"n_trials": 1001}, "n_trials", "less than or equal to 1000"),
    ({"sampler": "grid"}, "search_space", "the grid sampler needs a step"),
    ({"sampler": "grid", "search_space": {"seed": {"min": 0, "max": 1}}}, "n_trials", "at most 2"),
    ({"objective": {"metric": "segm/AP"}}, "objective", "not one a classification trial reports"),
    ({"template": "fai-mf"}, "dataset", "this dataset is classification"),
])
def test_refused_input_names_its_field_and_queues_nothing(api, templates, dataset, fields, field, message):
    with queued(TRAIN_JOB) as train:
        response = create(api, dataset, **fields)
    assert response.status_code == 400, response.content
    assert message in str(response.json()[field]), response.json()
    assert not Study.objects.exists() and not Job.objects.exists() and not train.called


def test_a_study_s_trials_are_jobs_whose_best_model_it_points_at(api, templates, dataset):
    with queued(TRAIN_JOB) as train:
        response = create(api, dataset, sampler="random", pruner="none", name="lr search")
        assert response.status_code == 201, response.content
        study_id = response.json()["id"]
        for _ in range(10):  # run each queued trial job, as a worker would, and move the study on
            for job in Job.objects.filter(status="queued"):
                run_job(job.pk)
            services.advance(study_id)
            if Study.objects.get(pk=study_id).status in Study.FINAL:
                break
    body = api.get(f"/api/v1/studies/{study_id}/").json()
    assert body["status"] == "succeeded" and body["trial_counts"] == {"running": 0, "complete": 3, "pruned": 0,
                                                                      "failed": 0}
    assert train.call_count == 3 and body["epochs_trained"] == 3 * FIXED["epochs"]
    trials = api.get(f"/api/v1/studies/{study_id}/trials/").json()
    assert [t["number"] for t in trials] == [0, 1, 2]
    specs = specs_for_template(Template.objects.get(pk="fai-cls"))
    for trial in trials:
        assert trial["state"] == "complete" and len(trial["intermediate_values"]) == FIXED["epochs"]
        assert 0.001 <= trial["hyperparameters"]["learning_rate"] <= 0.1
        resolve_hyperparameters(specs, trial["hyperparameters"])  # on the template's grid
        assert trial["value"] == max(trial["intermediate_values"].values())
        assert Job.objects.get(pk=trial["job"]).name == f"lr search · trial {trial['number']}"
    best = body["best_trial"]
    assert best["value"] == max(t["value"] for t in trials) and best["model"] is not None
    assert api.get(f"/api/v1/models/{best['model']}/").json()["job"] == best["job"]
    assert len({t["hyperparameters"]["learning_rate"] for t in trials}) == 3
    assert JournalEntry.objects.filter(study_id=study_id).exists()  # Optuna's state, in the platform's database
    deployment_id = deploy_ready(api, best["model"])  # the best trial's model serves as any other
    predictions = predict_base64(api, deployment_id, held_out(("red", "blue"))).json()["predictions"]
    assert [p[0]["label"] for p in predictions] == ["red", "blue"]


def evaluate(job, accuracies, status="running"):
    """The job's evaluations and status in one commit: its study sees them together."""
    with transaction.atomic():
        for epoch, accuracy in enumerate(accuracies, 1):
            MetricsEntry.objects.create(job=job, epoch=epoch, step=epoch, metrics={"accuracy": accuracy},
                                        monitor="accuracy")
        Job.objects.filter(pk=job.pk).update(status=status)


def three_median_trials(api, dataset):
    """A median-pruned study running three trials at once: its id and the trials' jobs."""
    study_id = create(api, dataset, n_trials=3, max_parallel_trials=3, sampler="random", pruner="median").json()["id"]
    return study_id, [trial.job for trial in Trial.objects.filter(study_id=study_id).order_by("number")]


def test_a_trial_worse_than_the_median_is_pruned_its_job_cancelled_and_its_metrics_kept(api, templates, dataset):
    with queued(TRAIN_JOB):
        study_id, (first, second, third) = three_median_trials(api, dataset)
        evaluate(first, [0.8, 0.9, 0.9], "succeeded")
        evaluate(second, [0.7, 0.8, 0.85], "succeeded")
        evaluate(third, [0.1, 0.2])  # still training, far below the others after two epochs
        services.advance(study_id)
    trials = {t["number"]: t for t in api.get(f"/api/v1/studies/{study_id}/trials/").json()}
    assert [trials[n]["state"] for n in range(3)] == ["complete", "complete", "pruned"]
    assert trials[2]["intermediate_values"] == {"1": 0.1, "2": 0.2} and "pruned after epoch 2" in trials[2]["message"]
    assert Job.objects.get(pk=third.pk).status == "cancelled"
    body = api.get(f"/api/v1/studies/{study_id}/").json()
    assert body["status"] == "succeeded" and body["best_trial"]["number"] == 0 and body["best_trial"]["value"] == 0.9


def test_an_evaluation_prunes_its_trial_at_once_before_the_job_trains_another_epoch(api, templates, dataset):
    with queued(TRAIN_JOB):
        study_id, (first, second, third) = three_median_trials(api, dataset)
        evaluate(first, [0.8, 0.9], "succeeded")
        evaluate(second, [0.7, 0.8], "succeeded")
        evaluate(third, [0.78])  # above the median at epoch 1: trains on
        assert Trial.objects.get(job=third).state == "running" and not Job.objects.get(pk=third.pk).cancel_requested
        # Its runner's next evaluation, written as the runner writes it; no driver pass follows.
        MetricsEntry.objects.create(job=third, epoch=2, step=2, metrics={"accuracy": 0.2}, monitor="accuracy")
    trial = Trial.objects.get(job=third)
    assert trial.state == "pruned" and "pruned after epoch 2" in trial.message
    assert Job.objects.get(pk=third.pk).cancel_requested  # its runner stops before the next step


def test_a_trial_is_not_pruned_after_its_last_epoch_however_it_scores(api, templates, dataset):
    with queued(TRAIN_JOB):
        study_id, (first, second, third) = three_median_trials(api, dataset)
        evaluate(first, [0.8, 0.9, 0.9], "succeeded")
        evaluate(second, [0.7, 0.8, 0.85], "succeeded")
        services.advance(study_id)
        evaluate(third, [0.9, 0.9, 0.1])  # its third epoch is its last (FAST_FAI_CLS trains 3)
        assert Trial.objects.get(job=third).state == "running"  # the job finishes and registers its model
        evaluate(third, [0.9, 0.9, 0.1], "succeeded")
        services.advance(study_id)
    trial = Trial.objects.get(job=third)
    assert trial.state == "complete" and trial.value == 0.9


def test_values_a_rule_across_parameters_refuses_fail_the_trial_without_a_job(api, templates, user):
    small = store_manifest(Dataset.objects.create(owner=user, name="tiny", format="classification_folder",
                                                  task="classification", status="ready", classes=["a", "b"],
                                                  splits={"train": 4}))
    with queued(TRAIN_JOB) as train:  # every warmup_epochs searched reaches the 2 epochs fixed
        response = create(api, small, n_trials=2, max_parallel_trials=2, fixed={**FIXED, "epochs": 2},
                          search_space={"warmup_epochs": {"min": 2, "max": 5}})
    assert response.status_code == 201
    trials = Trial.objects.filter(study_id=response.json()["id"])
    assert [t.state for t in trials] == ["failed", "failed"] and not train.called
    assert all("warmup_epochs" in t.message and t.job is None for t in trials)
    assert Study.objects.get().status == "failed" and Study.objects.get().error == "no trial completed"


def test_cancelling_a_study_cancels_its_running_trials(api, other_api, templates, dataset):
    with queued(TRAIN_JOB):
        study_id = create(api, dataset, max_parallel_trials=2).json()["id"]
    assert other_api.post(f"/api/v1/studies/{study_id}/cancel/").status_code == 404
    body = api.post(f"/api/v1/studies/{study_id}/cancel/").json()
    assert body["status"] == "cancelled" and body["trial_counts"]["failed"] == 2
    assert set(Job.objects.values_list("status", flat=True)) == {"cancelled"}
    response = api.post(f"/api/v1/studies/{study_id}/cancel/")
    assert response.status_code == 409 and response.json()["code"] == "study_ended"


def test_a_grid_study_runs_each_point_once_ends_and_logs_its_creation_once(api, templates, dataset):
    from optuna.storages.journal._storage import JournalOperation

    with queued(TRAIN_JOB):
        study_id = create(api, dataset, sampler="grid", pruner="none", n_trials=2, max_parallel_trials=2,
                          search_space={"seed": {"min": 0, "max": 1}}).json()["id"]
        for trial in Trial.objects.filter(study_id=study_id):
            evaluate(trial.job, [0.5 + 0.1 * trial.number], "succeeded")
        for _ in range(3):  # passes after the last point: nothing more to ask
            services.advance(study_id)
    study = Study.objects.get(pk=study_id)
    assert study.status == "succeeded" and study.trials.count() == 2
    assert sorted(t.hyperparameters["seed"] for t in study.trials.all()) == [0, 1]
    operations = [entry.log["op_code"] for entry in JournalEntry.objects.filter(study_id=study_id)]
    assert operations.count(JournalOperation.CREATE_STUDY) == 1 and operations.count(JournalOperation.CREATE_TRIAL) == 2


def test_a_template_that_can_take_no_more_jobs_ends_the_study_without_spending_its_trials(api, templates, dataset):
    with queued(TRAIN_JOB):
        study_id = create(api, dataset, n_trials=3, sampler="random", pruner="none").json()["id"]
        first = Trial.objects.get(study_id=study_id)
        Template.objects.filter(pk="fai-cls").update(is_active=False)
        evaluate(first.job, [0.7], "succeeded")
        services.advance(study_id)
    study = Study.objects.get(pk=study_id)
    assert study.status == "failed" and "inactive" in study.error
    assert list(study.trials.values_list("state", flat=True)) == ["complete"]  # the refused ask was rolled back
    assert [e.log["op_code"] for e in JournalEntry.objects.filter(study_id=study_id)].count(4) == 1  # CREATE_TRIAL
