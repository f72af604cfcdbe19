from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "platform_api.deployments"
    label = "deployments"
