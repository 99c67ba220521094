"""System status and the platform-check run (web -> orchestrator -> Prefect -> worker -> back)."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Schema, Status

from dalgo.core.api import DalgoRouter, ctx_of
from dalgo.runs import selectors as run_selectors
from dalgo.runs import services as run_services
from dalgo.runs.schemas import LogPageOut, LogQuery, RunOut, run_log_page, run_out
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
    return run_log_page(run=run, query=query)


@router.post("/checks/{run_id}/cancel", permission="system.check", response=RunOut)
def check_cancel(request: HttpRequest, run_id: UUID) -> RunOut:
    run = run_selectors.run_get(org=ctx_of(request).require_org, run_id=run_id, kind=services.PLATFORM_CHECK_KIND)
    return run_out(run_services.run_cancel(run=run))
