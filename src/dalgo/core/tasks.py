"""Platform-level Celery tasks: email delivery and the beat heartbeat."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import timezone

log = logging.getLogger(__name__)

HEARTBEAT_CACHE_KEY = "dalgo:beat:heartbeat"


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(*, to: str, subject: str, body: str) -> None:
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])
    log.info("email sent subject=%r", subject)


@shared_task
def beat_heartbeat() -> str:
    """Scheduled by Celery beat; /health reads the timestamp to prove beat and a worker run."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=None)
    return now
