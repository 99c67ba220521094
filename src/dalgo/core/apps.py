from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dalgo.core"
    label = "core"
    verbose_name = "Dalgo core"
