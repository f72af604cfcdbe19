"""PostModelOutputs: a trained version predicts through a platform deployment of the model
its job registered, made on the first predict and loaded once per process, with the
images decoded, turned upright and limited as `POST /api/v1/deployments/{id}/predict/` does."""
from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from platform_api.clarifai.models import ClarifaiModelVersion
from platform_api.clarifai.problems import DeploymentFailed, NotTrained
from platform_api.clarifai.status import is_trained
from platform_api.deployments import services as deployments
from platform_api.deployments.models import Deployment
from platform_api.training.models import Job

SERVING = (Deployment.Status.READY, Deployment.Status.PENDING)


def serving_deployments(job: Job):
    return Deployment.objects.select_related("model_version").filter(
        owner=job.owner, model_version__job=job, status__in=SERVING)


def predict(version: ClarifaiModelVersion, raw_images: list[bytes]) -> tuple[list[Image.Image], list[list[dict]]]:
    """(the upright images, each one's predictions as the predictor gives them)."""
    job = version.job
    if not is_trained(job):
        raise NotTrained(job, f"model version '{version.version_id}' is not trained: predict once its status is 21100")
    return deployments.predict_with_images(_deployment(job), raw_images, field="inputs")


def _deployment(job: Job) -> Deployment:
    """A ready or loading deployment (predict loads the model in this process if needed)."""
    deployment = serving_deployments(job).first()
    if deployment is not None:
        return deployment
    latest = Deployment.objects.filter(owner=job.owner, model_version__job=job).order_by("-id").first()
    if latest is not None and latest.status == Deployment.Status.FAILED:
        raise DeploymentFailed(f"the model of this version failed to load: {latest.error}")
    deployment, _created = deployments.deploy(job.owner, job.model_version)
    return deployment


@dataclass(frozen=True)
class Selection:
    """A request's output_config: concepts at or above min_value, of select_concepts when
    named, at most max_concepts (0 or empty: no limit)."""

    min_value: float = 0.0
    max_concepts: int = 0
    concept_ids: list[str] = field(default_factory=list)

    def apply(self, items: list[dict]) -> list[dict]:
        kept = sorted((item for item in items if item["conf"] >= self.min_value
                       and (not self.concept_ids or item["label"] in self.concept_ids)),
                      key=lambda item: item["conf"], reverse=True)
        return kept[:self.max_concepts] if self.max_concepts else kept
