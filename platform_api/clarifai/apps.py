from django.apps import AppConfig


class ClarifaiConfig(AppConfig):
    name = "platform_api.clarifai"
    label = "clarifai"
    verbose_name = "Clarifai v2 API"

    def ready(self):
        from platform_api.clarifai import signals  # noqa: F401  (connects the delete rule)
