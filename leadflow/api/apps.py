from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "leadflow.api"
    label = "api"
