"""What `create_user --staff` grants: the "Platform staff" group, whose members edit the
training templates in the admin and read every other row there (rows change only through
their services, as the REST API's; cancel and stop stay with superusers)."""
from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import Group, Permission

STAFF_GROUP = "Platform staff"
EDITABLE_APPS = ("templates_registry",)
READABLE_APPS = ("datasets", "training", "registry", "studies", "deployments", "clarifai")


def staff_group() -> Group:
    """The group with its permissions as declared here (made or brought up to date)."""
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    codenames = [(model._meta.app_label, f"{action}_{model._meta.model_name}")
                 for app_label, actions in [*((a, ("view", "change")) for a in EDITABLE_APPS),
                                            *((a, ("view",)) for a in READABLE_APPS)]
                 for model in apps.get_app_config(app_label).get_models()
                 for action in actions]
    permissions = [Permission.objects.get(content_type__app_label=app_label, codename=codename)
                   for app_label, codename in codenames]
    group.permissions.set(permissions)
    return group
