"""Reads of sources and connections, always within one org."""

from __future__ import annotations

from django.db.models import QuerySet

from dalgo.core.errors import NotFound
from dalgo.ingestion.models import SYNC_KIND, Connection, Source
from dalgo.orgs.models import Org
from dalgo.runs.models import Run


def source_list(*, org: Org) -> QuerySet[Source]:
    return Source.objects.for_org(org).order_by("name")


def source_get(*, org: Org, source_id: int) -> Source:
    source = Source.objects.for_org(org).filter(pk=source_id).first()
    if source is None:
        raise NotFound("Source not found.", code="source_not_found")
    return source


def connection_list(*, org: Org, source_id: int | None = None) -> QuerySet[Connection]:
    connections = Connection.objects.for_org(org).select_related("source", "sync_run")
    if source_id is not None:
        connections = connections.filter(source_id=source_id)
    return connections.order_by("name")


def connection_get(*, org: Org, connection_id: int) -> Connection:
    connection = Connection.objects.for_org(org).select_related("source", "sync_run").filter(pk=connection_id).first()
    if connection is None:
        raise NotFound("Connection not found.", code="connection_not_found")
    return connection


def connection_runs(*, org: Org, connection_id: int, finished: bool = False) -> QuerySet[Run]:
    """The connection's syncs, newest first (only those that ended, if `finished`)."""
    runs = (
        Run.objects.for_org(org)
        .select_related("created_by")
        .filter(kind=SYNC_KIND, params__connection_id=connection_id)
    )
    if finished:
        runs = runs.filter(finished_at__isnull=False)
    return runs.order_by("-created_at")
