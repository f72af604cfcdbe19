"""What a job will cost, before it is submitted: its optimizer steps on the dataset, and a
time from the speed the platform's workers showed on the template's recent jobs (the
steps they ran times the pixels each step read, over their run time, evaluation and start-up
included), so the form can say "about 14 min" before anything is queued."""
from __future__ import annotations

import statistics

from platform_api.training.models import Job
from trainers.core import TrainerError
from trainers.families import run_size

RECENT_JOBS = 20  # the speed is the median of at most this many recent jobs


def estimate(template, dataset_spec, resolved: dict, devices: int = 1) -> dict:
    """On several devices the steps are each rank's, and the speed is that of recent jobs on
    as many devices."""
    size = run_size(template.trainer, resolved, dataset_spec.train_images(), devices)
    rates = _recent_rates(template, resolved, devices)
    pixels_per_second = statistics.median(rates) if rates else None
    return {
        "train_images": size.train_images, "batch_size": size.batch_size, "epochs": size.epochs,
        "steps_per_epoch": size.steps_per_epoch, "steps": size.steps,
        "seconds": round(size.steps * size.pixels_per_step / pixels_per_second, 1) if pixels_per_second else None,
        "measured_jobs": len(rates),
    }


def _recent_rates(template, resolved: dict, devices: int) -> list[float]:
    """Pixels per second of the template's recent succeeded jobs that trained the same
    backbone on as many devices in one attempt (a resumed job's times span its interruptions)."""
    jobs = (Job.objects.filter(template=template, status=Job.Status.SUCCEEDED, attempts__lte=1, devices=devices,
                               started_at__isnull=False, finished_at__isnull=False)
            .order_by("-finished_at").only("hyperparameters", "progress", "started_at", "finished_at")[:RECENT_JOBS * 3])
    rates = []
    for job in jobs:
        if job.hyperparameters.get("backbone") != resolved.get("backbone"):
            continue
        seconds = (job.finished_at - job.started_at).total_seconds()
        steps = job.progress.get("step") or 0  # done: a job stopped early ran fewer than planned
        try:
            pixels_per_step = run_size(template.trainer, job.hyperparameters, 0).pixels_per_step
        except TrainerError:  # a snapshot today's trainer no longer reads
            continue
        if seconds > 0 and steps > 0:
            rates.append(steps * pixels_per_step / seconds)
        if len(rates) == RECENT_JOBS:
            break
    return rates
