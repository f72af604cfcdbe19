"""The Clarifai front's delete rule for the models below it: a v1 model that a Clarifai model
version serves stays until that version is deleted (DeleteModelVersion), or the version's
predictions would find no model. Connected by ClarifaiConfig.ready."""
from django.db.models import ProtectedError
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from platform_api.clarifai.models import ClarifaiModelVersion
from platform_api.registry.models import ModelVersion


@receiver(pre_delete, sender=ModelVersion, dispatch_uid="clarifai-versions-keep-their-model")
def keep_the_model_a_clarifai_version_serves(sender, instance, **kwargs):
    versions = list(ClarifaiModelVersion.objects.filter(job_id=instance.job_id))
    if versions:
        raise ProtectedError("Clarifai model versions serve it", versions)
