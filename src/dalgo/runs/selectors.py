"""Reads of runs, always within one org."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from dalgo.core.errors import NotFound
from dalgo.orgs.models import Org
from dalgo.runs.models import Run


def run_list(*, org: Org, kind: str | None = None, limit: int = 20) -> QuerySet[Run]:
    runs = Run.objects.for_org(org).select_related("created_by")
    if kind:
        runs = runs.filter(kind=kind)
    return runs.order_by("-created_at")[:limit]


def run_get(*, org: Org, run_id: UUID, kind: str | None = None) -> Run:
    runs = Run.objects.for_org(org).select_related("created_by").filter(pk=run_id)
    if kind:
        runs = runs.filter(kind=kind)
    run = runs.first()
    if run is None:
        raise NotFound("Run not found.")
    return run
