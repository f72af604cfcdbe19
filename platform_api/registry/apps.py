from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "platform_api.registry"
    label = "registry"
