"""API shapes of runs, shared by every area that starts them (system checks, syncs, pipelines)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Schema

from dalgo.runs import services as run_services
from dalgo.runs.models import Run


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
    progress: dict[str, Any]
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
        id=run.id, kind=run.kind, status=run.status, created_by=run.created_by.email if run.created_by else None,
        created_at=run.created_at, started_at=run.started_at, finished_at=run.finished_at,
        duration_seconds=run.duration_seconds, flow_run_id=run.flow_run_id, progress=run.progress or {},
        result=run.result, error=run.error,
    )  # fmt: skip


def run_log_page(*, run: Run, query: LogQuery) -> LogPageOut:
    """A page of a run's log (after reconciling the run with Prefect, so `done` is current)."""
    run = run_services.run_refresh(run=run)
    page = run_services.run_logs(run=run, offset=max(0, query.offset), limit=max(1, min(query.limit, 1000)))
    return LogPageOut(
        lines=[LogLineOut(**line.model_dump()) for line in page.lines], next_offset=page.next_offset,
        done=run.is_terminal,
    )  # fmt: skip
