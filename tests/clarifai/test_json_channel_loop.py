"""The whole loop through clarifai-grpc's JSON channel (REST), unmodified: list the
templates, upload labelled images, freeze a dataset version, train a Clarifai template,
poll it, read its evaluation, predict."""
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from platform_api.datasets.models import Dataset
from platform_api.training.models import Job
from tests.clarifai.clients import app, colour_inputs, make_dataset_version, ok, run_jobs, train_version
from tests.factories import colour_image, image_bytes
from platform_api.registry.evaluations import run_evaluation
from tests.queueing import EVALUATE_MODEL, IMPORT_DATASET, queued

pytestmark = pytest.mark.django_db(transaction=True)

CLARIFAI_TEMPLATES = {"MMClassification_ResNet_50_RSB_A1", "Clarifai_InceptionBatchNorm", "Clarifai_InceptionV2",
                      "Clarifai_ResNext", "Clarifai_InceptionTransferEmbedNorm"}
# As the clients send them: Struct numbers are doubles, an int hyperparameter's 32 is 32.0.
TINY_INCEPTION = {"template": "Clarifai_InceptionV2", "image_size": 32.0, "batch_size": 4.0, "num_epochs": 1.0,
                  "per_item_lrate": 0.001}


def test_the_visual_classifier_offers_each_template_with_its_declared_hyperparameters(stub, auth):
    types = ok(stub.ListModelTypes(service_pb2.ListModelTypesRequest(user_app_id=app()), metadata=auth)).model_types
    by_id = {model_type.id: model_type for model_type in types}
    assert set(by_id) == {"visual-classifier", "visual-segmenter"}
    fields = {field.path: field for field in by_id["visual-classifier"].model_type_fields}
    template = fields["train_info.params.template"]
    assert template.field_type == resources_pb2.ModelTypeField.ENUM and template.required
    options = {option.id: option for option in template.model_type_enum_options}
    assert set(options) == CLARIFAI_TEMPLATES | {"fai-cls"}
    batch_size = {f.path: f for f in options["Clarifai_InceptionV2"].model_type_fields}["train_info.params.batch_size"]
    assert batch_size.field_type == resources_pb2.ModelTypeField.NUMBER
    assert batch_size.default_value.number_value == 64
    range_info = batch_size.model_type_range_info
    assert (range_info.min, range_info.max, range_info.step) == (1, 128, 1)
    assert batch_size.placeholder == "a multiple of 1 from 1 to 128" and batch_size.description
    for option in options.values():
        for field in option.model_type_fields:
            assert field.path.startswith("train_info.params.") and field.placeholder, (option.id, field.path)
    segmenter = {f.path: f for f in by_id["visual-segmenter"].model_type_fields}["train_info.params.template"]
    assert [option.id for option in segmenter.model_type_enum_options] == ["fai-mf"]


@pytest.mark.slow
def test_a_clarifai_template_trains_and_predicts_through_the_json_channel(stub, auth, user):
    user_app = app()
    ok(stub.PostConcepts(service_pb2.PostConceptsRequest(
        user_app_id=user_app, concepts=[resources_pb2.Concept(id=c, name=c.title()) for c in ("red", "blue")]),
        metadata=auth))
    version = make_dataset_version(stub, auth, user_app, "colours", colour_inputs(per_colour=5))
    assert version.status.code == codes.DATASET_VERSION_PENDING
    assert version.metrics["/split/train"].inputs_count.value == 8
    assert version.metrics["/split/valid"].inputs_count.value == 2
    version = ok(stub.GetDatasetVersion(service_pb2.GetDatasetVersionRequest(
        user_app_id=user_app, dataset_id="colours", dataset_version_id=version.id), metadata=auth)).dataset_version
    assert version.status.code == codes.DATASET_VERSION_READY, version.status

    ok(stub.PostModels(service_pb2.PostModelsRequest(user_app_id=user_app, models=[
        resources_pb2.Model(id="colours", model_type_id="visual-classifier")]), metadata=auth))
    response, jobs = train_version(stub, auth, user_app, "colours",
                                   {**TINY_INCEPTION, "dataset_id": "colours", "dataset_version_id": version.id},
                                   concepts=("red", "blue"))
    ok(response)
    version_id = response.model.model_version.id
    assert response.model.model_version.status.code == codes.MODEL_QUEUED_FOR_TRAINING
    assert Job.objects.get(pk=jobs[0]).hyperparameters["num_epochs"] == 1  # 1.0 read as the int it declares

    run_jobs(jobs)
    trained = ok(stub.GetModelVersion(service_pb2.GetModelVersionRequest(
        user_app_id=user_app, model_id="colours", version_id=version_id), metadata=auth)).model_version
    assert trained.status.code == codes.MODEL_TRAINED, trained.status
    assert trained.train_info.params["template"] == "Clarifai_InceptionV2"
    assert trained.metrics.status.code == codes.MODEL_EVALUATED
    assert 0.0 <= trained.metrics.summary.macro_avg_f1_score <= 1.0
    assert set(trained.metrics.confusion_matrix.concept_ids) == {"blue", "red"}
    assert sum(entry.value for entry in trained.metrics.confusion_matrix.matrix) == 2  # the valid split
    assert {m.concept.id for m in trained.metrics.metrics_by_class} == {"blue", "red"}
    assert "recall" in trained.metrics.extended_metrics.user_metrics["per_class"]["red"]
    # From the report the job made: the curves and figures of each concept.
    assert trained.metrics.summary.top5_accuracy == 0.0  # not a figure with two concepts
    assert 0.0 <= trained.metrics.summary.macro_avg_roc_auc <= 1.0
    for by_class in trained.metrics.metrics_by_class:
        curve = by_class.precision_recall_curve
        assert len(curve.recall) == len(curve.precision) == len(curve.thresholds) > 0
        assert 0.0 < by_class.avg_precision <= 1.0

    # Evaluated again on a dataset version: queued, then evaluated, then listed.
    with queued(EVALUATE_MODEL) as evaluations:
        posted = ok(stub.PostModelVersionEvaluations(service_pb2.PostModelVersionEvaluationsRequest(
            user_app_id=user_app, model_id="colours", model_version_id=version_id,
            eval_metrics=[resources_pb2.EvalMetrics(ground_truth_dataset=resources_pb2.Dataset(
                id="colours", version=resources_pb2.DatasetVersion(id=version.id)))]), metadata=auth)).eval_metrics[0]
    assert posted.status.code == codes.MODEL_QUEUED_FOR_EVALUATION and posted.ground_truth_dataset.id == "colours"
    run_evaluation(*evaluations.call_args.args)
    evaluated = ok(stub.GetModelVersionEvaluation(service_pb2.GetModelVersionEvaluationRequest(
        user_app_id=user_app, model_id="colours", model_version_id=version_id, evaluation_id=posted.id),
        metadata=auth)).eval_metrics
    assert evaluated.status.code == codes.MODEL_EVALUATED and evaluated.id == posted.id
    assert evaluated.summary.top1_accuracy == pytest.approx(trained.metrics.summary.top1_accuracy)  # the same split
    listed = ok(stub.ListModelVersionEvaluations(service_pb2.ListModelVersionEvaluationsRequest(
        user_app_id=user_app, model_id="colours", model_version_id=version_id), metadata=auth)).eval_metrics
    assert [e.id for e in listed] == [posted.id]
    missing = stub.GetModelVersionEvaluation(service_pb2.GetModelVersionEvaluationRequest(
        user_app_id=user_app, model_id="colours", model_version_id=version_id, evaluation_id="999"), metadata=auth)
    assert missing.status.code == codes.CONN_DOES_NOT_EXIST and "evaluation '999'" in missing.status.details

    outputs = ok(stub.PostModelOutputs(service_pb2.PostModelOutputsRequest(
        user_app_id=user_app, model_id="colours", version_id=version_id,
        inputs=[resources_pb2.Input(data=resources_pb2.Data(image=resources_pb2.Image(
            base64=image_bytes(colour_image("red", 32, seed=99)))))]), metadata=auth)).outputs
    concepts = outputs[0].data.concepts
    assert {c.id for c in concepts} == {"red", "blue"} and {c.name for c in concepts} == {"Red", "Blue"}
    assert [c.value for c in concepts] == sorted((c.value for c in concepts), reverse=True)
    assert all(0.0 <= c.value <= 1.0 for c in concepts)


def test_a_dataset_version_is_pending_then_in_progress_while_a_worker_imports_it(stub, auth):
    user_app = app()
    ok(stub.PostDatasets(service_pb2.PostDatasetsRequest(
        user_app_id=user_app, datasets=[resources_pb2.Dataset(id="colours")]), metadata=auth))
    ok(stub.PostInputs(service_pb2.PostInputsRequest(user_app_id=user_app, inputs=colour_inputs()), metadata=auth))
    with queued(IMPORT_DATASET) as imports:
        version = ok(stub.PostDatasetVersions(service_pb2.PostDatasetVersionsRequest(
            user_app_id=user_app, dataset_id="colours"), metadata=auth)).dataset_versions[0]
    assert imports.call_count == 1
    assert version.status.code == codes.DATASET_VERSION_PENDING
    assert version.metrics["/"].inputs_count.value == 10
    assert version.metrics["/concept/red"].positive_input_tags_count.value == 5
    platform_dataset = Dataset.objects.get(pk=imports.call_args.args[0])
    platform_dataset.lease_owner = "worker-1"  # what a worker taking the import does
    platform_dataset.save(update_fields=["lease_owner"])
    importing = ok(stub.GetDatasetVersion(service_pb2.GetDatasetVersionRequest(
        user_app_id=user_app, dataset_id="colours", dataset_version_id=version.id), metadata=auth)).dataset_version
    assert importing.status.code == codes.DATASET_VERSION_IN_PROGRESS
