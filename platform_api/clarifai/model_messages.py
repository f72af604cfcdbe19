"""Model types (from the templates' declarations), models, model versions with their
evaluation, and predictions -> clarifai-grpc messages."""
from __future__ import annotations

import base64
import math
import uuid
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2 as pb
from django.utils import timezone
from google.protobuf import struct_pb2

from platform_api.clarifai.messages import label, struct, timestamp
from platform_api.clarifai.model_types import ModelType, template_specs
from platform_api.clarifai.models import ClarifaiModel, ClarifaiModelVersion
from platform_api.clarifai.status import evaluated, is_trained, model_version_status, success
from platform_api.registry.evaluations import NoReport, read_report
from training_templates.hyperparameter_specs import allowed_range, as_spec, show
from training_templates.models import Template

F = pb.ModelTypeField.ModelTypeFieldType
FIELD_TYPES = {"int": F.NUMBER, "float": F.NUMBER, "bool": F.BOOLEAN, "enum": F.ENUM, "string": F.STRING}
PARAMS = "train_info.params"


# ---------------------------------------------------------------- model types

def model_type_message(model_type: ModelType, templates: list[Template]) -> pb.ModelType:
    """`train_info.params.template` is an ENUM whose options are the templates, each carrying
    its own hyperparameters; the SDK's get_params / get_param_info read them from there."""
    return pb.ModelType(
        id=model_type.id, title=model_type.title, description=model_type.description,
        input_fields=["image"], output_fields=[model_type.output], trainable=True, creatable=True,
        evaluation_type=pb.EvaluationType.Value(model_type.evaluation),
        model_type_fields=[
            _field(f"{PARAMS}.dataset_id", F.DATASET_ID, "The dataset to train on.", "dataset id", required=True),
            _field(f"{PARAMS}.dataset_version_id", F.DATASET_VERSION_ID,
                   "The dataset version to train on; empty: the dataset's latest version.", "dataset version id"),
            _field("output_info.data.concepts", F.ARRAY_OF_CONCEPTS,
                   "The concepts to learn: every concept of the dataset version (send them all, or none).",
                   "concepts of the dataset version"),
            _field(f"{PARAMS}.template", F.ENUM, f"The training template: {', '.join(t.pk for t in templates)}.",
                   "template id", required=True, options=[_template_option(t) for t in templates]),
        ],
    )


def _field(path: str, field_type: int, description: str, placeholder: str, required: bool = False,
           options: list | None = None) -> pb.ModelTypeField:
    return pb.ModelTypeField(path=path, field_type=field_type, description=description, placeholder=placeholder,
                             required=required, model_type_enum_options=options or [])


def _template_option(template: Template) -> pb.ModelTypeEnumOption:
    return pb.ModelTypeEnumOption(id=template.pk, description=template.description,
                                  model_type_fields=[hyperparameter_field(spec) for spec in template_specs(template)])


def hyperparameter_field(spec: dict[str, Any]) -> pb.ModelTypeField:
    """One declared hyperparameter: type, default, bounds and step (absent bounds are
    -/+Infinity), choices, description, and a placeholder saying what it accepts."""
    field = pb.ModelTypeField(path=f"{PARAMS}.{spec['name']}", field_type=FIELD_TYPES[spec["type"]],
                              default_value=_value(spec["default"]), description=spec["description"],
                              placeholder=_placeholder(spec), required=False)
    if spec["type"] in ("int", "float"):
        field.model_type_range_info.CopyFrom(pb.ModelTypeRangeInfo(
            min=-math.inf if spec["min"] is None else spec["min"],
            max=math.inf if spec["max"] is None else spec["max"],
            step=spec["step"] or 0.0))
    if spec["type"] == "enum":
        field.model_type_enum_options.extend(pb.ModelTypeEnumOption(id=str(choice)) for choice in spec["choices"])
    return field


def _value(value: Any) -> struct_pb2.Value:
    holder = struct_pb2.Struct()
    holder.update({"v": value})
    return holder.fields["v"]


def _placeholder(spec: dict[str, Any]) -> str:
    if spec["type"] in ("int", "float"):
        bounded = spec["min"] is not None or spec["max"] is not None or spec["step"] is not None
        what = allowed_range(as_spec(spec)) if bounded else "a number"
        return what + (", or null" if spec["default"] is None else "")
    if spec["type"] == "enum":
        return "one of " + ", ".join(show(choice) for choice in spec["choices"])
    return "true or false" if spec["type"] == "bool" else "text"


# ---------------------------------------------------------------- models and versions

def model_message(model: ClarifaiModel, latest: ClarifaiModelVersion | None) -> pb.Model:
    app = model.app
    return pb.Model(id=model.model_id, name=model.name, app_id=app.app_id, user_id=app.owner.get_username(),
                    model_type_id=model.model_type_id, description=model.description,
                    created_at=timestamp(model.created_at), modified_at=timestamp(model.modified_at),
                    model_version=model_version_message(latest, {}) if latest else None)


def model_version_message(version: ClarifaiModelVersion, names: dict[str, str]) -> pb.ModelVersion:
    job, app = version.job, version.model.app
    registered = getattr(job, "model_version", None) if is_trained(job) else None
    dataset_version = version.dataset_version
    params = {"template": job.template_id, "dataset_id": dataset_version.dataset.dataset_id,
              "dataset_version_id": dataset_version.version_id, **job.hyperparameters}
    message = pb.ModelVersion(
        id=version.version_id, app_id=app.app_id, user_id=app.owner.get_username(), description=version.description,
        created_at=timestamp(version.created_at), modified_at=timestamp(job.finished_at or version.created_at),
        completed_at=timestamp(job.finished_at) if registered else None,
        status=model_version_status(job), active_concept_count=len(version.concepts),
        total_input_count=sum(dataset_version.counts.get("splits", {}).values()),
        train_info=pb.TrainInfo(params=struct(params)),
        output_info=pb.OutputInfo(data=pb.Data(concepts=[label(c, 0.0, names) for c in version.concepts])),
        metadata=struct({"platform_job_id": job.pk, "platform_model_id": registered.pk if registered else None}),
    )
    if registered is not None:
        message.metrics.CopyFrom(eval_metrics(own_figures(registered), registered.classes, names))
    return message


def own_figures(registered) -> dict[str, Any]:
    """The model's figures: its evaluation report's where it has one (made as its job ended),
    else its best epoch's metrics."""
    try:
        return {**registered.metrics, **report_figures(read_report(registered))}
    except NoReport:
        return registered.metrics


def report_figures(report: dict[str, Any]) -> dict[str, Any]:
    """An evaluation report as the flat figures eval_metrics reads."""
    return {**report["metrics"], "per_class": report["per_class"],
            **({"confusion_matrix": report["confusion_matrix"]} if "confusion_matrix" in report else {})}


def _fraction(value: float | None, percent: bool) -> float:
    return 0.0 if value is None else value / 100 if percent else value


def eval_metrics(metrics: dict[str, Any], classes: list[str], names: dict[str, str]) -> pb.EvalMetrics:
    """A model's evaluation: the summary, the confusion matrix and each concept's figures (F1,
    counts and, from a report, average precision, ROC AUC and the precision-recall curve);
    `extended_metrics.user_metrics` holds the platform's own figures (per-class precision and
    recall, segmentation AP or mIoU)."""
    summary = pb.MetricsSummary(
        top1_accuracy=metrics.get("accuracy", 0.0), top5_accuracy=metrics.get("top5_accuracy") or 0.0,
        macro_avg_roc_auc=metrics.get("roc_auc_macro") or 0.0, macro_avg_f1_score=metrics.get("f1_macro", 0.0),
        macro_avg_precision=metrics.get("precision_macro", 0.0), macro_avg_recall=metrics.get("recall_macro", 0.0),
        mean_avg_precision_iou_50=(metrics.get("segm/AP50") or 0.0) / 100,
        mean_avg_precision_iou_range=(metrics.get("segm/AP") or 0.0) / 100,
    )
    message = pb.EvalMetrics(status=evaluated(), summary=summary,
                             extended_metrics=pb.ExtendedMetrics(user_metrics=struct(metrics)))
    matrix = metrics.get("confusion_matrix")
    if matrix:
        message.confusion_matrix.CopyFrom(pb.ConfusionMatrix(concept_ids=classes, matrix=[
            pb.ConfusionMatrixEntry(actual=classes[t], predicted=classes[p], value=count,
                                    actual_concept=label(classes[t], 0.0, names),
                                    predicted_concept=label(classes[p], 0.0, names))
            for t, row in enumerate(matrix) for p, count in enumerate(row)]))
    total = metrics.get("num_samples", 0)
    segmentation = "segm/AP" in metrics
    for concept_id, figures in (metrics.get("per_class") or {}).items():
        support = figures.get("support", 0)
        entry = pb.BinaryMetrics(concept=label(concept_id, 0.0, names), f1=figures.get("f1", 0.0),
                                 num_pos=support, num_neg=max(total - support, 0), num_tot=total,
                                 roc_auc=figures.get("roc_auc") or 0.0,
                                 avg_precision=_fraction(figures.get("average_precision"), segmentation))
        curve = figures.get("pr_curve")
        if curve:
            entry.precision_recall_curve.CopyFrom(pb.PrecisionRecallCurve(
                recall=curve["recall"], precision=curve["precision"], thresholds=curve["thresholds"]))
        message.metrics_by_class.append(entry)
    return message


# ---------------------------------------------------------------- predictions

def output_message(model: ClarifaiModel, version: ClarifaiModelVersion, input_id: str, image,
                   predictions: list[dict[str, Any]], names: dict[str, str], regions: bool) -> pb.Output:
    """Concepts highest value first; for a segmenter, regions with a bounding box normalised
    to the image, the mask as a PNG of the image's size, and the region's concept."""
    app = model.app
    ranked = sorted(predictions, key=lambda item: item["conf"], reverse=True)
    data = pb.Data()
    if regions:
        width, height = image.size
        for item in ranked:
            x1, y1, x2, y2 = item["bbox"]
            data.regions.append(pb.Region(
                id=uuid.uuid4().hex, value=item["conf"],
                region_info=pb.RegionInfo(
                    bounding_box=pb.BoundingBox(top_row=y1 / height, left_col=x1 / width,
                                                bottom_row=y2 / height, right_col=x2 / width),
                    mask=pb.Mask(image=pb.Image(base64=base64.b64decode(item["mask"])))),
                data=pb.Data(concepts=[label(item["label"], item["conf"], names)])))
    else:
        data.concepts.extend(label(item["label"], item["conf"], names) for item in ranked)
    return pb.Output(
        id=uuid.uuid4().hex, status=success(), created_at=timestamp(timezone.now()),
        model=pb.Model(id=model.model_id, app_id=app.app_id, user_id=app.owner.get_username(),
                       model_type_id=model.model_type_id, model_version=pb.ModelVersion(id=version.version_id)),
        input=pb.Input(id=input_id), data=data)
