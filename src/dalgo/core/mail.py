"""Outgoing email: always sent after the transaction commits, through a Celery task."""

from __future__ import annotations

from django.db import transaction


def email_send_on_commit(*, to: str, subject: str, body: str) -> None:
    from dalgo.core.tasks import send_email

    transaction.on_commit(lambda: send_email.delay(to=to, subject=subject, body=body))
