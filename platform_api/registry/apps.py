from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "platform_api.registry"
    label = "registry"

    def ready(self):
        from platform_api.registry import signals  # noqa: F401  (connects the receivers)
