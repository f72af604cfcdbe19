from django.apps import AppConfig


class TrainingTemplatesConfig(AppConfig):
    name = "training_templates"
    # The label the app was first installed under: databases, their migration history, the
    # permissions ("templates_registry.change_template") and the admin's URLs are keyed by it.
    label = "templates_registry"
    verbose_name = "Training templates"
