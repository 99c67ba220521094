from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dalgo.core"
    label = "core"
    verbose_name = "Dalgo core"

    def ready(self) -> None:
        # Configure the Celery app in every Django process, so `.delay()` uses our broker settings.
        from dalgo import celery  # noqa: F401
