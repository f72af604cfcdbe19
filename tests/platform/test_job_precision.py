"""A job's numeric precision: asked for in the request where the template allows it, else
the worker's TRAINING_PRECISION, else the hardware's decision; shown on the job and
written into the model's resolved config."""
import json

import pytest

from platform_api.storage import get_storage
from platform_api.training.models import Job
from platform_api.training.runner import run_job
from training_templates.models import Template
from tests.factories import classification_zip
from tests.platform.flows import import_in_process
from trainers.engine import precision as precision_module
from tests.queueing import IMPORT_DATASET, TRAIN_JOB, queued

pytestmark = pytest.mark.django_db(transaction=True)
TINY = {"backbone": "tiny_test", "epochs": 1, "batch_size": 4, "resolution": 32}


@pytest.fixture
def dataset(user, tmp_path):
    with queued(IMPORT_DATASET):
        return import_in_process(user, classification_zip(tmp_path / "d.zip"))


def submit(api, dataset, **fields):
    with queued(TRAIN_JOB):
        return api.post("/api/v1/jobs/", {"template": "fai-cls", "dataset": dataset.pk, "hyperparameters": TINY,
                                          **fields}, format="json")


def trained_config(job: Job) -> dict:
    artifact = get_storage().local_dir(job.model_version.artifact_key)
    return json.loads((artifact / "config.json").read_text())


def test_a_job_without_a_request_trains_in_what_the_hardware_decides(api, templates, dataset, monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: False)
    response = submit(api, dataset)
    assert response.status_code == 201, response.content
    assert response.json()["requested_precision"] == "auto" and response.json()["precision"] is None
    run_job(response.json()["id"])
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "succeeded" and job.precision == "fp32"
    assert api.get(f"/api/v1/jobs/{job.pk}/").json()["precision"] == "fp32"
    recorded = trained_config(job)["training_precision"]
    assert recorded["precision"] == "fp32" and "no native bf16" in recorded["reason"]


def test_a_requested_precision_is_obeyed_over_the_workers_setting(api, templates, dataset, settings):
    settings.TRAINING_PRECISION = "fp32"
    response = submit(api, dataset, precision="bf16")
    assert response.status_code == 201, response.content
    run_job(response.json()["id"])
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.requested_precision, job.precision, job.status) == ("bf16", "bf16", "succeeded")
    assert trained_config(job)["training_precision"] == {"precision": "bf16", "device": "cpu", "reason": "requested"}


def test_the_workers_training_precision_overrides_auto(api, templates, dataset, settings, monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: False)
    settings.TRAINING_PRECISION = "bf16"
    response = submit(api, dataset)
    run_job(response.json()["id"])
    assert Job.objects.get(pk=response.json()["id"]).precision == "bf16"


def test_a_precision_the_template_does_not_allow_is_refused_and_nothing_is_queued(api, templates, dataset):
    Template.objects.filter(pk="fai-cls").update(precisions=["auto", "fp32"])
    response = submit(api, dataset, precision="fp16")
    assert response.status_code == 400
    assert response.json() == {"precision": ["template fai-cls allows auto, fp32; got 'fp16'"]}
    assert Job.objects.count() == 0


def test_an_unknown_precision_is_refused(api, templates, dataset):
    response = submit(api, dataset, precision="fp8")
    assert response.status_code == 400 and "precision" in response.json()
    assert Job.objects.count() == 0


def test_templates_list_the_precisions_a_job_may_ask_for(api, templates):
    assert api.get("/api/v1/templates/fai-cls/").json()["precisions"] == ["auto", "fp32", "bf16", "fp16"]
