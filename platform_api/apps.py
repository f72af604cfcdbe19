from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "platform_api"
    label = "platform_api"
    verbose_name = "Platform"
