from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "platform_api.console"
    label = "console"
