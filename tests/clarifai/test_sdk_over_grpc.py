"""The `clarifai` SDK, unmodified, over gRPC: it uploads, lists the training templates,
reads and sets their parameters, trains, polls and predicts."""
import pytest
from clarifai.client.app import App
from clarifai.client.input import Inputs
from clarifai.client.model import Model
from clarifai.client.user import User
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from platform_api.training.models import Job
from tests.factories import colour_image, image_bytes
from tests.queueing import IMPORT_DATASET, TRAIN_JOB, queued
from platform_api.datasets.services import import_dataset
from platform_api.training.runner import run_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.slow
def test_the_sdk_trains_polls_and_predicts_over_grpc(grpc_url, token, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # the SDK may read ~/.config/clarifai; there is none
    User(user_id="alice", base_url=grpc_url, pat=token).create_app(app_id="sdk")
    app = App(app_id="sdk", user_id="alice", base_url=grpc_url, pat=token)
    dataset = app.create_dataset(dataset_id="colours")
    app.create_concepts(["red", "blue"])
    uploads = [Inputs.get_input_from_bytes(f"{colour}-{n}", image_bytes=image_bytes(colour_image(colour, 32, seed=n)),
                                           dataset_id="colours", labels=[colour])
               for colour in ("red", "blue") for n in range(5)]
    _, response = app.inputs().upload_inputs(uploads)
    assert response.status.code == codes.SUCCESS, response.status
    with queued(IMPORT_DATASET) as imports:
        version = dataset.create_version(description="first")
    import_dataset(imports.call_args.args[0])

    model = app.create_model(model_id="colours", model_type_id="visual-classifier")
    templates = model.list_training_templates()
    assert "fai-cls" in templates and "Clarifai_ResNext" in templates
    params = model.get_params(template="fai-cls", save_to=str(tmp_path / "params.yaml"))
    assert params["train_params"]["template"] == "fai-cls"
    assert params["train_params"]["batch_size"] == 16  # the declared default
    info = model.get_param_info("batch_size")
    assert info["param"] == "batch_size" and info["modelTypeRangeInfo"] == {"min": 1.0, "max": 256.0, "step": 1.0}
    model.update_params(dataset_id="colours", dataset_version_id=version.version.id, backbone="tiny_test",
                        resolution=32, epochs=2, batch_size=8, learning_rate=0.01, scheduler="constant",
                        concepts=["red", "blue"])

    with queued(TRAIN_JOB) as trainings:
        version_id = model.train()
    assert model.training_status(version_id=version_id).code == codes.MODEL_QUEUED_FOR_TRAINING
    job = Job.objects.get(pk=trainings.call_args.args[0])
    assert job.hyperparameters["epochs"] == 2 and job.hyperparameters["backbone"] == "tiny_test"
    run_job(job.pk)
    assert model.training_status(version_id=version_id).code == codes.MODEL_TRAINED

    predicted = Model(model_id="colours", user_id="alice", app_id="sdk", base_url=grpc_url, pat=token)
    response = predicted.predict_by_bytes(image_bytes(colour_image("blue", 32, seed=77)), input_type="image")
    concepts = response.outputs[0].data.concepts
    assert {c.id for c in concepts} <= {"red", "blue"} and concepts
    assert [c.value for c in concepts] == sorted((c.value for c in concepts), reverse=True)
