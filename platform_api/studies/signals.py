"""A trial's evaluation moves its study on at once, in the worker that trained it: the pruner
decides before the next epoch starts, not up to a driver pass (STUDY_DRIVER_SECONDS) and the
epochs trained meanwhile later. The driver still runs every study, for outcomes that come
with no evaluation (a failed or cancelled job) and for a receiver that found the study busy."""
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from platform_api.studies.models import Trial
from platform_api.studies.services import advance_quietly
from platform_api.training.models import MetricsEntry


@receiver(post_save, sender=MetricsEntry, dispatch_uid="studies.advance_on_evaluation")
def advance_on_evaluation(sender, instance: MetricsEntry, created: bool, **_):
    if not created:
        return
    study_id = (Trial.objects.filter(job_id=instance.job_id, state=Trial.State.RUNNING)
                .values_list("study_id", flat=True).first())
    if study_id is not None:
        transaction.on_commit(lambda: advance_quietly(study_id))
