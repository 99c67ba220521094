from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "dalgo.runs"
    label = "runs"
    verbose_name = "Runs"
