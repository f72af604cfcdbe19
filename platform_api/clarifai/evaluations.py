"""Model-version evaluations (PostModelVersionEvaluations, GetModelVersionEvaluation,
ListModelVersionEvaluations) on the platform's own (registry/evaluations.py): the ground-truth
dataset version's frozen platform dataset, its held-out split (valid, else train), scored in
PyTorch; the answer's EvalMetrics come from the evaluation's report."""
from __future__ import annotations

from clarifai_grpc.grpc.api import resources_pb2 as pb
from clarifai_grpc.grpc.api import service_pb2 as api
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from clarifai_grpc.grpc.api.status.status_pb2 import Status

from platform_api.clarifai import concepts, models_service, namespace
from platform_api.clarifai import datasets as clarifai_datasets
from platform_api.clarifai.handlers_models import model_of
from platform_api.clarifai.messages import timestamp
from platform_api.clarifai.model_messages import eval_metrics, report_figures
from platform_api.clarifai.problems import Missing, NotTrained
from platform_api.clarifai.status import is_trained
from platform_api.problems import Invalid
from platform_api.registry import evaluations
from platform_api.registry.models import Evaluation
from trainers.core import EVALUATION_SPLITS

STATUS = {
    Evaluation.Status.QUEUED: (codes.MODEL_QUEUED_FOR_EVALUATION, "Model is queued for evaluation"),
    Evaluation.Status.RUNNING: (codes.MODEL_EVALUATING, "Model is evaluating"),
    Evaluation.Status.FAILED: (codes.MODEL_EVALUATION_FAILED, "Model evaluation failed"),
}


def _registered(user, request):
    """(the app's model, the platform model of the trained version the request names)."""
    model = model_of(user, request)
    version = models_service.get_version(model, request.model_version_id)
    if not is_trained(version.job):
        raise NotTrained(version.job, f"model version '{version.version_id}' is not trained: evaluate it once its "
                                      "status is 21100")
    return model, version.job.model_version


def post_model_version_evaluations(user, request: api.PostModelVersionEvaluationsRequest) -> api.MultiEvalMetricsResponse:
    model, registered = _registered(user, request)
    if len(request.eval_metrics) != 1:
        raise Invalid({"eval_metrics": [f"send one evaluation, got {len(request.eval_metrics)}"]})
    truth = request.eval_metrics[0].ground_truth_dataset
    if not truth.id:
        raise Invalid({"eval_metrics[0].ground_truth_dataset.id": ["is required: the dataset to evaluate on"]})
    dataset = clarifai_datasets.get_dataset(model.app, truth.id)
    version = (clarifai_datasets.get_version(dataset, truth.version.id) if truth.version.id
               else clarifai_datasets.latest_version(dataset))
    if version is None or version.platform_dataset is None:
        raise Invalid({"eval_metrics[0].ground_truth_dataset.version.id": [
            f"dataset '{truth.id}' has no ready version: create one with PostDatasetVersions"]})
    frozen = version.platform_dataset
    split = next((name for name in EVALUATION_SPLITS if (frozen.splits or {}).get(name)), "")
    evaluation = evaluations.request_evaluation(registered, frozen, split, "torch")
    return api.MultiEvalMetricsResponse(eval_metrics=[_message(evaluation, model, request.model_version_id,
                                                               concepts.names_of(model.app))])


def get_model_version_evaluation(user, request: api.GetModelVersionEvaluationRequest) -> api.SingleEvalMetricsResponse:
    model, registered = _registered(user, request)
    evaluation = (registered.evaluations.filter(pk=int(request.evaluation_id)).first()
                  if request.evaluation_id.isdecimal() and request.evaluation_id.isascii() else None)
    if evaluation is None:
        raise Missing("evaluation", request.evaluation_id, f"model version '{request.model_version_id}'")
    return api.SingleEvalMetricsResponse(eval_metrics=_message(evaluation, model, request.model_version_id,
                                                               concepts.names_of(model.app)))


def list_model_version_evaluations(user, request: api.ListModelVersionEvaluationsRequest) -> api.MultiEvalMetricsResponse:
    model, registered = _registered(user, request)
    names = concepts.names_of(model.app)
    rows = namespace.page_of(registered.evaluations.select_related("dataset"), request.page, request.per_page)
    return api.MultiEvalMetricsResponse(eval_metrics=[_message(e, model, request.model_version_id, names) for e in rows])


def _message(evaluation: Evaluation, model, version_id: str, names: dict[str, str]) -> pb.EvalMetrics:
    classes = evaluation.model_version.classes
    if evaluation.status == Evaluation.Status.SUCCEEDED:
        message = eval_metrics(report_figures(evaluations.read_report(evaluation)), classes, names)
    else:
        code, description = STATUS[evaluation.status]
        message = pb.EvalMetrics(status=Status(code=code, description=description, details=evaluation.error))
    message.id = str(evaluation.pk)
    message.app_id = model.app.app_id
    message.user_id = model.app.owner.get_username()
    message.model.CopyFrom(pb.Model(id=model.model_id, model_version=pb.ModelVersion(id=version_id)))
    message.ground_truth_dataset.CopyFrom(pb.Dataset(id=_clarifai_dataset_id(evaluation),
                                                     created_at=timestamp(evaluation.created_at)))
    return message


def _clarifai_dataset_id(evaluation: Evaluation) -> str:
    """The Clarifai dataset the evaluated platform dataset was frozen from, else the platform id."""
    version = evaluation.dataset.clarifai_versions.select_related("dataset").first()
    return version.dataset.dataset_id if version is not None else str(evaluation.dataset_id)
