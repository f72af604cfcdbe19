from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "platform_api.studies"
    label = "studies"
    verbose_name = "Hyperparameter studies"

    def ready(self):
        from platform_api.studies import signals  # noqa: F401  (an evaluation moves its study on)
