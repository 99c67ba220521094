"""Everything the orchestrator asks of Prefect, through Prefect's async client.

Deployments are derived state: `deployment_reconcile` makes Prefect match a DeploymentSpec (create,
update, or nothing) and reports whether anything changed. Deployments carry a module-path
entrypoint (`dalgo.system.flows.platform_check`), no storage and no pull steps, so a process
worker imports the flow from the package installed in its own environment.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentScheduleCreate, WorkPoolCreate
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    LogFilter,
    LogFilterFlowRunId,
    TaskRunFilter,
    TaskRunFilterId,
)
from prefect.client.schemas.objects import FlowRun, Log, State, StateType
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.schedules import CronSchedule
from prefect.client.schemas.sorting import LogSort
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from dalgo.orchestrator import config
from dalgo.orchestrator.schemas import (
    ComponentHealth,
    DeploymentOut,
    DeploymentSpec,
    FlowRunOut,
    HealthOut,
    LogLine,
    LogPage,
)

log = logging.getLogger("dalgo.orchestrator")
PREFECT_PAGE = 200  # the Prefect API's maximum page size


class NotFoundError(Exception):
    """The deployment or flow run does not exist."""


def module_entrypoint(entrypoint: str) -> str:
    """`pkg.module:func` -> `pkg.module.func`: Prefect imports colon-less entrypoints as modules
    (no storage, no pull steps); with a colon it would try to fetch code from `deployment.path`."""
    if ".py:" in entrypoint:
        raise ValueError("entrypoints are module paths (package.module:function), not script files")
    module, _, func = entrypoint.rpartition(":")
    return f"{module}.{func}" if module else entrypoint


def flow_name_of(entrypoint: str) -> str:
    """The Prefect flow a deployment belongs to: the function name, as Prefect names flows."""
    return module_entrypoint(entrypoint).rsplit(".", 1)[-1].replace("_", "-")


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


# ---------------------------------------------------------------------------------------- health
async def health(client: PrefectClient) -> HealthOut:
    started = time.perf_counter()
    try:
        error = await asyncio.wait_for(client.api_healthcheck(), config.HEALTH_TIMEOUT_SECONDS)
    except TimeoutError:
        error = TimeoutError(f"no answer in {config.HEALTH_TIMEOUT_SECONDS:.0f}s")
    if error is not None:
        prefect = ComponentHealth(
            status="down",
            latency_ms=_elapsed_ms(started),
            message=f"Prefect API at {config.PREFECT_API_URL} unreachable ({type(error).__name__})",
        )
        pool = ComponentHealth(status="unknown", latency_ms=None, message="Prefect API unreachable")
        return HealthOut(status="ok", prefect=prefect, work_pool=pool)
    prefect = ComponentHealth(status="ok", latency_ms=_elapsed_ms(started), message=config.PREFECT_API_URL)
    return HealthOut(status="ok", prefect=prefect, work_pool=await _work_pool_health(client))


async def _work_pool_health(client: PrefectClient) -> ComponentHealth:
    started = time.perf_counter()
    pool = config.WORK_POOL
    try:
        workers = await asyncio.wait_for(client.read_workers_for_work_pool(pool), config.HEALTH_TIMEOUT_SECONDS)
    except ObjectNotFound:
        return ComponentHealth(status="down", latency_ms=_elapsed_ms(started), message=f"work pool {pool} missing")
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        return ComponentHealth(
            status="down",
            latency_ms=_elapsed_ms(started),
            message=f"cannot read work pool {pool} ({type(exc).__name__})",
        )
    now = datetime.now(UTC)
    online = 0
    for worker in workers:
        if worker.last_heartbeat_time is None:
            continue
        # A worker heartbeats every heartbeat_interval_seconds (Prefect's default is 30 s; Dalgo
        # starts its workers with 10 s): allow one missed beat's worth of slack beyond 30 s.
        window = max(config.WORKER_ONLINE_SECONDS, 1.5 * (worker.heartbeat_interval_seconds or 0))
        if (now - worker.last_heartbeat_time).total_seconds() <= window:
            online += 1
    noun = "worker" if online == 1 else "workers"
    return ComponentHealth(
        status="ok" if online else "down",
        latency_ms=_elapsed_ms(started),
        message=f"{online} {noun} online in pool {pool}",
    )


# ----------------------------------------------------------------------------------- deployments
async def work_pool_ensure(client: PrefectClient) -> None:
    try:
        await client.read_work_pool(config.WORK_POOL)
        return
    except ObjectNotFound:
        pass
    from prefect.workers.process import ProcessWorker

    try:
        await client.create_work_pool(
            WorkPoolCreate(
                name=config.WORK_POOL,
                type="process",
                base_job_template=ProcessWorker.get_default_base_job_template(),
            )
        )
    except ObjectAlreadyExists:
        pass


async def _deployment_by_name(client: PrefectClient, name: str) -> DeploymentResponse | None:
    found = await client.read_deployments(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name])))
    exact = [d for d in found if d.name == name]
    return exact[0] if exact else None


def _job_variables() -> dict[str, Any]:
    """Run the engine directly (`python -m prefect.engine`, the venv's python first on the worker's
    PATH): without a command, Prefect 3.8's process worker first starts a separate workspace-resolver
    process, one more Python + Prefect start-up (~3 s) per run."""
    return {"command": config.FLOW_COMMAND} if config.FLOW_COMMAND else {}


def _desired_schedules(spec: DeploymentSpec) -> list[tuple[str, str, bool]]:
    return [(spec.cron, spec.timezone or "UTC", True)] if spec.cron else []


def _current_schedules(deployment: DeploymentResponse) -> list[tuple[str, str, bool]]:
    out = []
    for schedule in deployment.schedules or []:
        inner = schedule.schedule
        out.append((getattr(inner, "cron", repr(inner)), getattr(inner, "timezone", None) or "UTC", schedule.active))
    return out


def _differences(deployment: DeploymentResponse, spec: DeploymentSpec, flow_id: UUID) -> list[str]:
    wanted: dict[str, Any] = {
        "flow_id": flow_id,
        "entrypoint": module_entrypoint(spec.entrypoint),
        "parameters": spec.parameters,
        "schedules": _desired_schedules(spec),
        "paused": spec.paused,
        "tags": sorted(spec.tags),
        "description": spec.description or "",
        "work_pool_name": config.WORK_POOL,
        "pull_steps": None,
        "enforce_parameter_schema": False,
        "job_variables": _job_variables(),
    }
    current: dict[str, Any] = {
        "flow_id": deployment.flow_id,
        "entrypoint": deployment.entrypoint,
        "parameters": deployment.parameters,
        "schedules": _current_schedules(deployment),
        "paused": deployment.paused,
        "tags": sorted(deployment.tags or []),
        "description": deployment.description or "",
        "work_pool_name": deployment.work_pool_name,
        "pull_steps": deployment.pull_steps or None,
        "enforce_parameter_schema": deployment.enforce_parameter_schema,
        "job_variables": deployment.job_variables or {},
    }
    differences = [key for key in wanted if wanted[key] != current[key]]
    for key in differences:
        log.info("deployment %s: %s is %r, wanted %r", deployment.name, key, current[key], wanted[key])
    return differences


async def deployment_reconcile(client: PrefectClient, *, name: str, spec: DeploymentSpec) -> DeploymentOut:
    """Make Prefect's deployment `name` match `spec`. Idempotent: a second call changes nothing."""
    entrypoint = module_entrypoint(spec.entrypoint)
    if spec.cron:
        CronSchedule(cron=spec.cron, timezone=spec.timezone or "UTC")  # validates early (ValueError)
    await work_pool_ensure(client)
    flow_id = await client.create_flow_from_name(flow_name_of(spec.entrypoint))  # get-or-create
    existing = await _deployment_by_name(client, name)
    if existing is not None:
        differences = _differences(existing, spec, flow_id)
        if not differences:
            return DeploymentOut(name=name, deployment_id=str(existing.id), created=False, changed=False)
        if existing.flow_id != flow_id:
            # A deployment cannot move to another flow: replace it.
            await client.delete_deployment(existing.id)
            existing = None
    deployment_id = await client.create_deployment(  # an upsert on (flow, name); replaces schedules
        flow_id=flow_id,
        name=name,
        entrypoint=entrypoint,
        parameters=spec.parameters,
        schedules=[
            DeploymentScheduleCreate(schedule=CronSchedule(cron=cron, timezone=tz), active=active)
            for cron, tz, active in _desired_schedules(spec)
        ],
        paused=spec.paused,
        tags=spec.tags,
        description=spec.description,  # None would be stored as the string "None"
        work_pool_name=config.WORK_POOL,
        pull_steps=None,
        path=None,
        enforce_parameter_schema=False,
        job_variables=_job_variables(),
    )
    return DeploymentOut(name=name, deployment_id=str(deployment_id), created=existing is None, changed=True)


async def deployment_delete(client: PrefectClient, *, name: str) -> None:
    existing = await _deployment_by_name(client, name)
    if existing is None:
        return
    try:
        await client.delete_deployment(existing.id)
    except ObjectNotFound:
        pass


# -------------------------------------------------------------------------------------- flow runs
def flow_run_out(flow_run: FlowRun) -> FlowRunOut:
    state = flow_run.state
    return FlowRunOut(
        flow_run_id=str(flow_run.id),
        state=state.type.value if state else "PENDING",
        state_name=(state.name or state.type.value.title()) if state else "Pending",
        message=(state.message or None) if state else None,
        start_time=flow_run.start_time,
        end_time=flow_run.end_time,
    )


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFoundError(value) from None


async def _flow_run(client: PrefectClient, flow_run_id: str) -> FlowRun:
    try:
        return await client.read_flow_run(_uuid(flow_run_id))
    except ObjectNotFound:
        raise NotFoundError(flow_run_id) from None


async def run_trigger(
    client: PrefectClient, *, name: str, parameters: dict[str, Any], idempotency_key: str | None
) -> FlowRunOut:
    deployment = await _deployment_by_name(client, name)
    if deployment is None:
        raise NotFoundError(name)
    flow_run = await client.create_flow_run_from_deployment(
        deployment.id, parameters=parameters, idempotency_key=idempotency_key
    )
    return flow_run_out(flow_run)


async def run_get(client: PrefectClient, *, flow_run_id: str) -> FlowRunOut:
    return flow_run_out(await _flow_run(client, flow_run_id))


async def run_logs(client: PrefectClient, *, flow_run_id: str, offset: int, limit: int) -> LogPage:
    """Lines of the run's logs (flow and task loggers) in timestamp order, from `offset`."""
    run_id = (await _flow_run(client, flow_run_id)).id
    offset, limit = max(0, offset), max(1, limit)
    log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
    logs: list[Log] = []
    while len(logs) < limit:
        page_size = min(PREFECT_PAGE, limit - len(logs))
        page = await client.read_logs(
            log_filter=log_filter, limit=page_size, offset=offset + len(logs), sort=LogSort.TIMESTAMP_ASC
        )
        logs.extend(page)
        if len(page) < page_size:
            break
    task_ids = sorted({log.task_run_id for log in logs if log.task_run_id}, key=str)
    task_names: dict[UUID, str] = {}
    for start in range(0, len(task_ids), PREFECT_PAGE):
        chunk = task_ids[start : start + PREFECT_PAGE]
        for task_run in await client.read_task_runs(task_run_filter=TaskRunFilter(id=TaskRunFilterId(any_=chunk))):
            task_names[task_run.id] = task_run.name
    lines = [
        LogLine(
            timestamp=log.timestamp,
            level=logging.getLevelName(log.level),
            message=log.message,
            task=task_names.get(log.task_run_id) if log.task_run_id else None,
        )
        for log in logs
    ]
    return LogPage(lines=lines, next_offset=offset + len(lines))


async def run_cancel(client: PrefectClient, *, flow_run_id: str) -> FlowRunOut:
    """A run no worker has started (scheduled, or pending without a process) goes straight to
    Cancelled (the flow engine refuses to start a cancelled run); otherwise propose Cancelling, as
    `prefect flow-run cancel` does, and the worker kills the flow's process and reports Cancelled.
    (Leaving a not-yet-started run in Cancelling made it wait for the worker's next cancellation
    sweep: over 45 s on a loaded machine.)"""
    flow_run = await _flow_run(client, flow_run_id)
    if flow_run.state is None or not flow_run.state.is_final():
        not_started = flow_run.state is not None and (
            flow_run.state.type == StateType.SCHEDULED
            or (flow_run.state.type == StateType.PENDING and flow_run.infrastructure_pid is None)
        )
        target = StateType.CANCELLED if not_started else StateType.CANCELLING
        await client.set_flow_run_state(
            flow_run.id, State(type=target, message="Cancelled from Dalgo"), force=not_started
        )
        flow_run = await client.read_flow_run(flow_run.id)
    return flow_run_out(flow_run)
