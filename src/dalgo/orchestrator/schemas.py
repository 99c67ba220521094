"""The HTTP contract of the orchestrator: served by `app.py`, spoken by `dalgo.runs.orchestrator_client`.

Pure pydantic, importable by any layer: the one definition both sides share.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class DeploymentSpec(BaseModel):
    entrypoint: str
    parameters: dict[str, Any] = {}
    cron: str | None = None
    timezone: str = "UTC"
    paused: bool = False
    tags: list[str] = []
    description: str = ""


class DeploymentOut(BaseModel):
    name: str
    deployment_id: str
    created: bool
    changed: bool


class RunTrigger(BaseModel):
    parameters: dict[str, Any] = {}
    idempotency_key: str | None = None


class FlowRunOut(BaseModel):
    flow_run_id: str
    state: str
    state_name: str
    message: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


class LogLine(BaseModel):
    timestamp: datetime
    level: str
    message: str
    task: str | None = None


class LogPage(BaseModel):
    lines: list[LogLine]
    next_offset: int


class ComponentHealth(BaseModel):
    status: str
    latency_ms: float | None = None
    message: str | None = None


class HealthOut(BaseModel):
    status: str
    prefect: ComponentHealth
    work_pool: ComponentHealth
