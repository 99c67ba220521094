"""The Celery app shared by web (to enqueue), workers and beat."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dalgo.settings")

app = Celery("dalgo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["dalgo.core", "dalgo.runs", "dalgo.system", "dalgo.warehouses"])


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender: Celery, **_: object) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        float(settings.CELERY_HEARTBEAT_SECONDS), sender.signature("dalgo.core.tasks.beat_heartbeat")
    )
    sender.add_periodic_task(60.0, sender.signature("dalgo.runs.tasks.runs_refresh_active"))
