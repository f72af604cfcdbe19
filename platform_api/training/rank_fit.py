"""What each rank of a multi-device job builds its trainer from, on this machine (the leader's
or a gang member's): the dataset on its disk before any rank starts, and the registered
weights resolved to files, since ranks have no database."""
from __future__ import annotations

from django.conf import settings

from platform_api.datasets.services import local_dataset_dir
from platform_api.registry.services import weights_resolver
from platform_api.training.files import job_work_dir
from platform_api.training.models import Job
from training_templates.hyperparameter_specs import resolve_hyperparameters
from trainers.core import DatasetSpec
from trainers.families import check_hyperparameters
from trainers.multi_device import RankFit, ResolvedWeights


def rank_fit(job: Job) -> RankFit:
    """The job's RankFit on this machine."""
    hyperparameters = resolve_hyperparameters(job.hyperparameter_spec, job.hyperparameters)
    dataset = DatasetSpec.load(local_dataset_dir(job.dataset))
    need = check_hyperparameters(job.trainer, hyperparameters)
    weights = {}
    if need is not None:
        path = weights_resolver(job.owner_id)(need.architecture, need.name)
        if path is None:
            raise need.missing()
        weights[(need.architecture, need.name)] = str(path)
    return RankFit(trainer=job.trainer, hyperparameters=hyperparameters, dataset_root=str(dataset.root),
                   work_dir=str(job_work_dir(job.pk)), weights=ResolvedWeights(weights),
                   device=settings.TRAINING_DEVICE or None, precision=requested_precision(job))


def requested_precision(job: Job) -> str:
    """The job's own request first, then this worker's TRAINING_PRECISION (auto by default)."""
    return job.requested_precision if job.requested_precision != "auto" else settings.TRAINING_PRECISION
