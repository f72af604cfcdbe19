from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "platform_api.studies"
    label = "studies"
    verbose_name = "Hyperparameter studies"
