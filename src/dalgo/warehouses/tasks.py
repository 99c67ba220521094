"""Background jobs of the warehouses app."""

from __future__ import annotations

from celery import shared_task

from dalgo.warehouses import services


@shared_task
def table_statistics_compute(*, stats_id: int) -> None:
    services.statistics_compute(stats_id=stats_id)
