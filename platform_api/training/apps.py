from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "platform_api.training"
    label = "training"
