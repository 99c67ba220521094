"""The Celery app shared by web (to enqueue), workers and beat."""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from celery import Celery
from celery.schedules import crontab
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dalgo.settings")

# ---- embedded mode's broker -----------------------------------------------------------------
# Embedded mode's broker: kombu's filesystem transport, with messages written atomically.
#
# kombu's own `_put` writes the message file in place while a consumer may already be moving it away
# and reading it, so a worker can read an empty file and crash (seen in our browser tests: JSONDecodeError
# in `_get`). Here a message is written to a hidden temporary file and renamed into the queue folder in
# one step, so consumers only ever see whole messages. Registered below as the `dalgofs://` transport.


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        folder = self.data_folder_out
        temporary = os.path.join(folder, f".{uuid.uuid4().hex}.tmp")  # never matches `<id>.<queue>.msg`
        with open(temporary, "wb") as f:
            f.write(str_to_bytes(dumps(payload)))
        os.replace(temporary, os.path.join(folder, name))


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES.setdefault("dalgofs", "dalgo.celery:Transport")


app = Celery("dalgo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["dalgo.core", "dalgo.runs", "dalgo.system", "dalgo.warehouses", "dalgo.ingestion"])


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender: Celery, **_: object) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        float(settings.CELERY_HEARTBEAT_SECONDS), sender.signature("dalgo.core.tasks.beat_heartbeat")
    )
    sender.add_periodic_task(60.0, sender.signature("dalgo.runs.tasks.runs_refresh_active"))
    sender.add_periodic_task(
        crontab(hour=2, minute=17), sender.signature("dalgo.ingestion.tasks.connections_schema_check_daily")
    )
