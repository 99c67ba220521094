"""Periodic upkeep of runs."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from dalgo.runs.models import TERMINAL_STATUSES, Run
from dalgo.runs.services import run_fail_zombie, run_is_zombie, run_refresh

ACTIVE_RUN_GRACE = timedelta(seconds=30)


@shared_task
def runs_refresh_active() -> int:
    """Reconcile runs nobody is watching with Prefect, so a flow that crashed, was cancelled, or
    died before recording its end closes its run. Returns how many runs ended."""
    ended = 0
    active = Run.objects.exclude(status__in=TERMINAL_STATUSES).exclude(flow_run_id="")
    for run in active.filter(created_at__lt=timezone.now() - ACTIVE_RUN_GRACE).iterator():
        run = run_fail_zombie(run=run) if run_is_zombie(run=run) else run_refresh(run=run)
        if run.is_terminal:
            ended += 1
    return ended
