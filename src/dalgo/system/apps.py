from django.apps import AppConfig


class SystemConfig(AppConfig):
    name = "dalgo.system"
    label = "system"
    verbose_name = "System"
