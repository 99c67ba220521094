"""System status and the platform-check run (web -> orchestrator -> Prefect -> worker -> back)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Schema, Status

from dalgo.core.api import DalgoRouter, ctx_of
from dalgo.runs import selectors as run_selectors
from dalgo.runs import services as run_services
from dalgo.runs.models import Run
from dalgo.system import services
from dalgo.system.health import components_health, overall_status

router = DalgoRouter(tags=["system"])


class ComponentOut(Schema):
    name: str
    status: str
    latency_ms: float | None = None
    message: str | None = None


class StatusOut(Schema):
    status: str
    components: list[ComponentOut]


class RunOut(Schema):
    id: UUID
    kind: str
    status: str
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    flow_run_id: str
    result: dict[str, Any] | None
    error: str


class LogLineOut(Schema):
    timestamp: datetime
    level: str
    message: str
    task: str | None = None


class LogPageOut(Schema):
    lines: list[LogLineOut]
    next_offset: int
    done: bool


class LogQuery(Schema):
    offset: int = 0
    limit: int = 200


def run_out(run: Run) -> RunOut:
    return RunOut(
        id=run.id,
        kind=run.kind,
        status=run.status,
        created_by=run.created_by.email if run.created_by else None,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_seconds=run.duration_seconds,
        flow_run_id=run.flow_run_id,
        result=run.result,
        error=run.error,
    )


@router.get("/status", permission="system.view", response=StatusOut)
def status(request: HttpRequest) -> StatusOut:
    components = components_health()
    return StatusOut(status=overall_status(components), components=[ComponentOut(**c) for c in components])


@router.post("/checks", permission="system.check", response={201: RunOut})
def check_start(request: HttpRequest) -> Status[RunOut]:
    ctx = ctx_of(request)
    run = services.platform_check_start(org=ctx.require_org, actor=ctx.require_user)
    return Status(201, run_out(run))


@router.get("/checks", permission="system.view", response=list[RunOut])
def check_list(request: HttpRequest) -> list[RunOut]:
    runs = run_selectors.run_list(org=ctx_of(request).require_org, kind=services.PLATFORM_CHECK_KIND)
    return [run_out(r) for r in runs]


@router.get("/checks/{run_id}", permission="system.view", response=RunOut)
def check_get(request: HttpRequest, run_id: UUID) -> RunOut:
    run = run_selectors.run_get(org=ctx_of(request).require_org, run_id=run_id, kind=services.PLATFORM_CHECK_KIND)
    return run_out(run_services.run_refresh(run=run))


@router.get("/checks/{run_id}/logs", permission="system.view", response=LogPageOut)
def check_logs(request: HttpRequest, run_id: UUID, query: Query[LogQuery]) -> LogPageOut:
    run = run_selectors.run_get(org=ctx_of(request).require_org, run_id=run_id, kind=services.PLATFORM_CHECK_KIND)
    run = run_services.run_refresh(run=run)
    page = run_services.run_logs(run=run, offset=max(0, query.offset), limit=max(1, min(query.limit, 1000)))
    return LogPageOut(
        lines=[LogLineOut(**line.model_dump()) for line in page.lines],
        next_offset=page.next_offset,
        done=run.is_terminal,
    )


@router.post("/checks/{run_id}/cancel", permission="system.check", response=RunOut)
def check_cancel(request: HttpRequest, run_id: UUID) -> RunOut:
    run = run_selectors.run_get(org=ctx_of(request).require_org, run_id=run_id, kind=services.PLATFORM_CHECK_KIND)
    return run_out(run_services.run_cancel(run=run))
