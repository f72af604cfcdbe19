"""The loss curve's data: a job keeps the step losses its fit reports, thinned to a bound,
and each epoch's mean; GET /jobs/{id}/metrics/loss/ shows them."""
import pytest

from platform_api.datasets.models import Dataset
from platform_api.training import loss_history
from platform_api.training.loss_history import LossRecorder, loss_series
from platform_api.training.models import Job, LossPoint
from training_templates.models import Template
from trainers.core import Progress


@pytest.fixture
def job(user, templates):
    dataset = Dataset.objects.create(owner=user, name="d", format="classification_folder", task="classification",
                                     status="ready", classes=["a", "b"], splits={"train": 4})
    return Job.objects.create(owner=user, template=Template.objects.get(pk="fai-cls"), dataset=dataset, trainer="fai_cls")


def at(step, loss, epoch=1, epoch_mean=False):
    return Progress(epoch=epoch, epochs=3, step=step, steps=300, eta_seconds=None, loss=loss, epoch_mean=epoch_mean)


def test_it_keeps_step_losses_and_epoch_means_apart_in_step_order(api, job):
    recorder = LossRecorder(job.pk)
    for step, loss in ((10, 2.0), (20, 1.5), (30, 1.2)):
        recorder.record(at(step, loss))
    recorder.record(at(30, 1.4, epoch_mean=True))
    recorder.record(at(35, float("nan")))  # nothing to draw
    body = api.get(f"/api/v1/jobs/{job.pk}/metrics/loss/").json()
    assert body == {"loss": [{"step": 10, "epoch": 1, "loss": 2.0}, {"step": 20, "epoch": 1, "loss": 1.5},
                             {"step": 30, "epoch": 1, "loss": 1.2}],
                    "epoch_loss": [{"step": 30, "epoch": 1, "loss": 1.4}]}


def test_a_resumed_run_replaces_what_the_lost_run_reported_after_its_checkpoint(job):
    lost = LossRecorder(job.pk)
    for step in (10, 20, 30, 40):
        lost.record(at(step, 1.0))
    lost.record(at(40, 1.0, epoch_mean=True))
    resumed = LossRecorder(job.pk)  # the next worker, from the checkpoint at step 20
    resumed.record(at(25, 0.5))
    series = loss_series(job.pk)
    assert [(p["step"], p["loss"]) for p in series["loss"]] == [(10, 1.0), (20, 1.0), (25, 0.5)]
    assert series["epoch_loss"] == []


def test_a_long_run_keeps_a_bounded_evenly_spread_curve(job, monkeypatch):
    monkeypatch.setattr(loss_history, "MAX_STEP_POINTS", 20)
    recorder = LossRecorder(job.pk)
    for step in range(1, 201):
        recorder.record(at(step, 1.0 / step))
    steps = [p["step"] for p in loss_series(job.pk)["loss"]]
    assert len(steps) <= 20
    assert steps[0] == 1 and steps[-1] >= 190
    gaps = [b - a for a, b in zip(steps, steps[1:])]
    assert max(gaps) <= 2 * min(gaps) + 1  # as even at the start as at the end
    assert LossPoint.objects.filter(job=job).count() == len(steps)


def test_the_loss_of_another_user_s_job_is_not_found(other_api, job):
    assert other_api.get(f"/api/v1/jobs/{job.pk}/metrics/loss/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_run_records_its_loss_curve_and_marks_the_epoch_its_model_keeps(api, user, templates, tmp_path):
    from platform_api.registry.models import ModelVersion
    from platform_api.training.runner import run_job
    from platform_api.training.services import submit_job
    from tests.factories import classification_zip
    from tests.platform.flows import import_in_process
    from tests.queueing import IMPORT_DATASET, TRAIN_JOB, queued

    with queued(TRAIN_JOB, IMPORT_DATASET):
        dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
        job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32, "epochs": 3, "batch_size": 4})
        run_job(job.pk)
    series = api.get(f"/api/v1/jobs/{job.pk}/metrics/loss/").json()
    assert [p["epoch"] for p in series["epoch_loss"]] == [1, 2, 3]
    assert all(p["loss"] > 0 for p in series["loss"] + series["epoch_loss"])
    entries = api.get(f"/api/v1/jobs/{job.pk}/metrics/").json()
    assert [e["epoch"] for e in entries] == [1, 2, 3]
    assert entries[0]["best"] is True  # the first evaluation is the best so far
    assert {e["monitor"] for e in entries} == {"accuracy"}
    kept = [e for e in entries if e["best"]][-1]
    assert ModelVersion.objects.get(job_id=job.pk).metrics == kept["metrics"]
