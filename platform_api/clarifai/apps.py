from django.apps import AppConfig


class ClarifaiConfig(AppConfig):
    name = "platform_api.clarifai"
    label = "clarifai"
    verbose_name = "Clarifai v2 API"
