"""Deleting jobs, models and exports, by the lineage rules of docs/API.md: a live deployment
keeps its model, a model keeps its job and dataset, a queued or running job keeps its dataset;
exports are a cache bounded by EXPORT_CACHE_BYTES."""
from unittest import mock

import pytest

from platform_api.deployments import services as deployments
from platform_api.deployments.models import Deployment
from platform_api.datasets.models import Dataset
from platform_api.problems import Conflict
from platform_api.registry import exports
from platform_api.registry.models import Export, ModelVersion
from platform_api.storage import get_storage
from platform_api.training.models import Job, MetricsEntry
from platform_api.training.services import submit_job
from tests.queueing import TRAIN_JOB, queued

pytestmark = pytest.mark.django_db(transaction=True)


def refused(response, code):
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == code, body
    return body["detail"]


def download(api, model_id, fmt):
    response = api.get(f"/api/v1/models/{model_id}/export/?format={fmt}")
    assert response.status_code == 200
    b"".join(response.streaming_content)


def test_a_live_deployment_keeps_its_model_and_a_deleted_model_frees_its_files_but_keeps_its_job(api, user,
                                                                                                 model_version):
    storage = get_storage()
    download(api, model_version.pk, "onnx")
    live = Deployment.objects.create(owner=user, model_version=model_version, status="ready")
    detail = refused(api.delete(f"/api/v1/models/{model_version.pk}/"), "model_in_use")
    assert f"deployment {live.pk} (ready)" in detail and "stop its live deployments" in detail
    assert storage.exists(model_version.artifact_key) and Export.objects.filter(model_version=model_version).exists()

    assert api.post(f"/api/v1/deployments/{live.pk}/stop/").status_code == 200
    assert api.delete(f"/api/v1/models/{model_version.pk}/").status_code == 204
    assert not ModelVersion.objects.filter(pk=model_version.pk).exists()
    assert not Deployment.objects.filter(pk=live.pk).exists()  # a stopped deployment goes with its model
    assert not storage.exists(model_version.artifact_key)
    assert not storage.exists(exports.zip_key(model_version.artifact_key, "onnx"))
    assert not storage.exists(exports.onnx_key(model_version.artifact_key))
    job = api.get(f"/api/v1/jobs/{model_version.job_id}/").json()
    assert job["status"] == "succeeded" and job["model"] is None
    assert api.delete(f"/api/v1/models/{model_version.pk}/").status_code == 404  # a repeated delete


def test_a_deleted_model_cannot_be_deployed_by_a_request_that_found_it_before(user, model_version):
    ModelVersion.objects.filter(pk=model_version.pk).delete()
    with pytest.raises(Conflict) as refusal:
        deployments.deploy(user, model_version)
    assert refusal.value.code == "model_deleted"
    assert not Deployment.objects.exists()


def test_a_job_is_kept_while_its_model_exists_then_goes_with_its_history(api, model_version):
    job_id = model_version.job_id
    assert MetricsEntry.objects.filter(job_id=job_id).exists()
    detail = refused(api.delete(f"/api/v1/jobs/{job_id}/"), "job_has_model")
    assert f"model {model_version.pk}" in detail and "delete the model first" in detail
    assert api.delete(f"/api/v1/models/{model_version.pk}/").status_code == 204
    assert api.delete(f"/api/v1/jobs/{job_id}/").status_code == 204
    assert not Job.objects.filter(pk=job_id).exists() and not MetricsEntry.objects.filter(job_id=job_id).exists()
    assert api.get(f"/api/v1/jobs/{job_id}/").status_code == 404
    assert api.delete(f"/api/v1/jobs/{job_id}/").status_code == 404


def test_a_queued_job_is_cancelled_before_it_can_be_deleted(api, user, templates, dataset):
    with queued(TRAIN_JOB):
        job = submit_job(user, "fai-cls", dataset.pk, {})
    detail = refused(api.delete(f"/api/v1/jobs/{job.pk}/"), "job_not_ended")
    assert "queued" in detail and f"/api/v1/jobs/{job.pk}/cancel/" in detail
    assert api.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 200
    assert api.delete(f"/api/v1/jobs/{job.pk}/").status_code == 204


def test_a_dataset_whose_models_are_all_deleted_goes_with_its_ended_jobs(api, model_version):
    dataset = model_version.dataset
    detail = refused(api.delete(f"/api/v1/datasets/{dataset.pk}/"), "dataset_in_use")
    assert f"model {model_version.pk}" in detail
    assert api.delete(f"/api/v1/models/{model_version.pk}/").status_code == 204
    assert api.delete(f"/api/v1/datasets/{dataset.pk}/").status_code == 204
    assert not Dataset.objects.filter(pk=dataset.pk).exists()
    assert not Job.objects.filter(pk=model_version.job_id).exists()
    assert not get_storage().exists(dataset.content_key)


def test_another_user_can_delete_neither_a_job_nor_a_model_nor_an_export(api, other_api, model_version):
    download(api, model_version.pk, "pytorch")
    assert other_api.delete(f"/api/v1/models/{model_version.pk}/export/?format=pytorch").status_code == 404
    assert other_api.delete(f"/api/v1/models/{model_version.pk}/").status_code == 404
    assert other_api.delete(f"/api/v1/jobs/{model_version.job_id}/").status_code == 404
    assert ModelVersion.objects.filter(pk=model_version.pk).exists()
    assert get_storage().exists(exports.zip_key(model_version.artifact_key, "pytorch"))


def test_a_deleted_export_is_freed_and_built_again_when_asked_for(api, model_version):
    key = exports.zip_key(model_version.artifact_key, "pytorch")
    download(api, model_version.pk, "pytorch")
    listed = api.get(f"/api/v1/models/{model_version.pk}/").json()["exports"]
    assert [e["format"] for e in listed] == ["pytorch"]
    assert listed[0]["size_bytes"] == get_storage().local_file(key).stat().st_size

    assert api.delete(f"/api/v1/models/{model_version.pk}/export/?format=pytorch").status_code == 204
    assert not get_storage().exists(key) and not Export.objects.exists()
    assert api.delete(f"/api/v1/models/{model_version.pk}/export/?format=pytorch").status_code == 404
    assert api.delete(f"/api/v1/models/{model_version.pk}/export/?format=tflite").status_code == 400
    with mock.patch.object(exports, "export_model", wraps=exports.export_model) as export_model:
        download(api, model_version.pk, "pytorch")
    assert export_model.call_count == 1 and get_storage().exists(key)


def test_exports_past_the_cache_limit_drop_the_least_recently_used_first(api, model_version, settings):
    download(api, model_version.pk, "pytorch")
    pytorch = Export.objects.get(format="pytorch")
    settings.EXPORT_CACHE_BYTES = pytorch.size_bytes  # room for one such export
    download(api, model_version.pk, "onnx")  # kept even though larger than the limit: it is being handed out
    assert list(Export.objects.values_list("format", flat=True)) == ["onnx"]
    assert not get_storage().exists(exports.zip_key(model_version.artifact_key, "pytorch"))

    settings.EXPORT_CACHE_BYTES = pytorch.size_bytes + Export.objects.get().size_bytes  # room for both
    download(api, model_version.pk, "pytorch")
    download(api, model_version.pk, "onnx")  # now the most recently used
    settings.EXPORT_CACHE_BYTES = Export.objects.get(format="onnx").size_bytes
    assert [e.format for e in exports.drop_least_recently_used()] == ["pytorch"]
    assert list(Export.objects.values_list("format", flat=True)) == ["onnx"]


def test_an_export_stored_before_exports_were_counted_is_counted_when_used(api, model_version):
    download(api, model_version.pk, "pytorch")
    size = Export.objects.get().size_bytes
    Export.objects.all().delete()  # as a data directory from before the cache has it
    download(api, model_version.pk, "pytorch")
    assert Export.objects.get().size_bytes == size


def test_a_model_a_clarifai_model_version_serves_is_kept_until_that_version_is_deleted(api, user, model_version):
    from platform_api.clarifai.models import App, ClarifaiDataset, ClarifaiModel, ClarifaiModelVersion, DatasetVersion

    app = App.objects.create(owner=user, app_id="shop")
    dataset_version = DatasetVersion.objects.create(dataset=ClarifaiDataset.objects.create(app=app, dataset_id="d"),
                                                    version_id="v1")
    clarifai_model = ClarifaiModel.objects.create(app=app, model_id="colours", model_type_id="visual-classifier")
    version = ClarifaiModelVersion.objects.create(model=clarifai_model, version_id="cv1", job=model_version.job,
                                                  dataset_version=dataset_version)
    detail = refused(api.delete(f"/api/v1/models/{model_version.pk}/"), "model_in_use")
    assert "Clarifai model version cv1" in detail and "DeleteModelVersion" in detail
    version.delete()  # what DeleteModelVersion does, its training and serving ended
    assert api.delete(f"/api/v1/models/{model_version.pk}/").status_code == 204
