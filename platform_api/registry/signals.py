"""Storage that follows rows: a deleted evaluation's report goes with it (also when its model or
dataset takes it along: Django's collector sends post_delete for every row it deletes)."""
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from platform_api.registry.models import Evaluation
from platform_api.storage import get_storage


@receiver(post_delete, sender=Evaluation)
def delete_report(sender, instance: Evaluation, **kwargs) -> None:
    prefix = f"evaluations/{instance.pk}"
    transaction.on_commit(lambda: get_storage().delete(prefix))
