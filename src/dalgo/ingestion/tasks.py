"""Background jobs of the ingestion app."""

from __future__ import annotations

import logging

from celery import shared_task

from dalgo.ingestion.connections import connections_schema_check_all

logger = logging.getLogger(__name__)


@shared_task
def connections_schema_check_daily() -> int:
    """Discover every connection's source again (daily, from beat): non-breaking changes apply,
    breaking ones wait for approval. Returns how many connections changed."""
    return connections_schema_check_all(log=logger.warning)
