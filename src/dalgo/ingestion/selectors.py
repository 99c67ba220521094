"""Reads of sources, always within one org."""

from __future__ import annotations

from django.db.models import QuerySet

from dalgo.core.errors import NotFound
from dalgo.ingestion.models import Source
from dalgo.orgs.models import Org


def source_list(*, org: Org) -> QuerySet[Source]:
    return Source.objects.for_org(org).order_by("name")


def source_get(*, org: Org, source_id: int) -> Source:
    source = Source.objects.for_org(org).filter(pk=source_id).first()
    if source is None:
        raise NotFound("Source not found.", code="source_not_found")
    return source
