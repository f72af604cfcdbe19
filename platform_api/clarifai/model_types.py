"""The trainable model types and the templates each offers: the platform's templates (their
task says which type), with the hyperparameters their one declaration gives them
(training_templates.services.specs_for_template)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from platform_api.clarifai.problems import Missing
from training_templates.models import Template
from training_templates.services import specs_for_template


@dataclass(frozen=True)
class ModelType:
    id: str
    title: str
    description: str
    template_tasks: tuple[str, ...]  # Template.task values offered under this type
    output: str  # what PostModelOutputs answers: "concepts" or "regions"
    evaluation: str  # resources_pb2.EvaluationType name


MODEL_TYPES = {
    model_type.id: model_type
    for model_type in (
        ModelType("visual-classifier", "Visual Classifier",
                  "Classify images into concepts: the five Clarifai templates and fai-cls.",
                  ("classification",), "concepts", "Classification"),
        ModelType("visual-segmenter", "Visual Segmenter",
                  "Segment the regions of each concept in an image: fai-mf (Mask2Former).",
                  ("instance_segmentation", "semantic_segmentation"), "regions", "Segmentation"),
    )
}


def model_type(model_type_id: str) -> ModelType:
    if model_type_id not in MODEL_TYPES:
        raise Missing("model type", model_type_id, f"this platform (trainable: {', '.join(MODEL_TYPES)})")
    return MODEL_TYPES[model_type_id]


def offered_templates(model_type: ModelType) -> list[Template]:
    """Active templates of the type's tasks: the choices of `train_info.params.template`."""
    return list(Template.objects.filter(is_active=True, task__in=model_type.template_tasks)
                .prefetch_related("hyperparameters").order_by("id"))


def hyperparameters_from_wire(specs: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """The values as the platform reads them. A protobuf Struct has only doubles, so the
    clients send an int parameter's 2 as 2.0: a whole double is the int the declaration
    takes (an int parameter, or an int choice). Everything else is passed as sent, for the
    template's own validation to judge."""
    by_name = {spec["name"]: spec for spec in specs}
    values = {}
    for name, value in params.items():
        spec = by_name.get(name)
        if spec is not None and isinstance(value, float) and value.is_integer() and _takes_int(spec, int(value)):
            value = int(value)
        values[name] = value
    return values


def _takes_int(spec: dict[str, Any], value: int) -> bool:
    if spec["type"] == "int":
        return True
    return spec["type"] == "enum" and any(type(choice) is int and choice == value for choice in spec["choices"] or [])


def template_specs(template: Template) -> list[dict[str, Any]]:
    return specs_for_template(template)
