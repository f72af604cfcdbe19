from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "platform_api.datasets"
    label = "datasets"
