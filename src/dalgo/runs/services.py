"""Run lifecycle: create and trigger on Prefect, the one state machine, refresh, logs, cancel."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dalgo.accounts.models import User
from dalgo.core.errors import Conflict, DalgoError
from dalgo.orgs.models import Org
from dalgo.runs.models import TERMINAL_STATUSES, TRANSITIONS, Run, RunStatus
from dalgo.runs.orchestrator_client import DeploymentSpec, FlowRunOut, LogPage, orchestrator

# Prefect state type -> our status, for states that end a run or show it started.
PREFECT_STATES: dict[str, RunStatus] = {
    "RUNNING": RunStatus.RUNNING,
    "COMPLETED": RunStatus.SUCCEEDED,
    "FAILED": RunStatus.FAILED,
    "CRASHED": RunStatus.FAILED,
    "CANCELLED": RunStatus.CANCELLED,
    "CANCELLING": RunStatus.CANCELLING,
}


def run_transition(*, run_id: UUID | str, to: RunStatus, error: str = "", result: dict[str, Any] | None = None) -> Run:
    """The only way a run changes status. Illegal or repeated transitions are ignored (idempotent)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status == to or to not in TRANSITIONS.get(run.status, frozenset()):
            return run
        now = timezone.now()
        run.status = to
        if to == RunStatus.RUNNING and run.started_at is None:
            run.started_at = now
        if to in TERMINAL_STATUSES:
            run.finished_at = now
            if run.started_at is None:
                run.started_at = now
        if error:
            run.error = error[:10000]
        if result is not None:
            run.result = result
        run.save()
        return run


def run_progress_set(*, run_id: UUID | str, progress: dict[str, Any]) -> None:
    Run.objects.filter(pk=run_id).update(progress=progress)


def run_heartbeat(*, run_id: UUID | str) -> RunStatus | None:
    """A running flow says it is alive; returns the run's status (a flow stops on CANCELLING)."""
    Run.objects.filter(pk=run_id).update(heartbeat_at=timezone.now())
    status = Run.objects.filter(pk=run_id).values_list("status", flat=True).first()
    return RunStatus(status) if status else None


def run_is_zombie(*, run: Run, timeout_seconds: float | None = None) -> bool:
    """A run that beats (see run_heartbeat) and has not for `timeout_seconds`: its worker is gone."""
    if run.is_terminal or run.heartbeat_at is None:
        return False
    timeout = timeout_seconds if timeout_seconds is not None else settings.DALGO_RUN_HEARTBEAT_TIMEOUT
    return (timezone.now() - run.heartbeat_at).total_seconds() > timeout


def run_fail_zombie(*, run: Run) -> Run:
    """End a run whose worker stopped beating, and ask Prefect to stop the flow if it still can."""
    if run.flow_run_id:
        try:
            orchestrator().run_cancel(run.flow_run_id)
        except DalgoError:
            pass
    seconds = (timezone.now() - run.heartbeat_at).total_seconds() if run.heartbeat_at else 0
    return run_transition(
        run_id=run.id, to=RunStatus.FAILED,
        error=f"The worker running this stopped responding (no heartbeat for {seconds:.0f} s).",
    )  # fmt: skip


def run_start(
    *,
    org: Org,
    kind: str,
    deployment: str,
    spec: DeploymentSpec,
    actor: User | None,
    params: dict[str, Any] | None = None,
) -> Run:
    """Record a run, make sure its deployment exists, and ask Prefect to run it with the run's id."""
    run = Run.objects.create(org=org, kind=kind, deployment=deployment, created_by=actor, params=params or {})
    return run_trigger(run=run, spec=spec)


def run_trigger(*, run: Run, spec: DeploymentSpec) -> Run:
    """Ask Prefect to run a recorded (queued) run's deployment; a failure fails the run and raises."""
    deployment = run.deployment
    client = orchestrator()
    try:
        client.deployment_reconcile(deployment, spec)
        flow_run = client.run_trigger(deployment, {"run_id": str(run.id)}, idempotency_key=str(run.id))
    except DalgoError as exc:
        run_transition(run_id=run.id, to=RunStatus.FAILED, error=exc.detail)
        raise
    Run.objects.filter(pk=run.pk).update(flow_run_id=flow_run.flow_run_id)
    run.flow_run_id = flow_run.flow_run_id
    return run


def run_refresh(*, run: Run) -> Run:
    """Reconcile a live run with Prefect: a crashed or cancelled flow ends the run here too."""
    if run.is_terminal or not run.flow_run_id:
        return run
    try:
        flow_run: FlowRunOut = orchestrator().run_get(run.flow_run_id)
    except DalgoError:
        return run
    mapped = PREFECT_STATES.get(flow_run.state)
    if mapped is None:
        return run
    if mapped in TERMINAL_STATUSES and mapped != RunStatus.SUCCEEDED:
        # The flow did not finish its own bookkeeping (crash, worker died, cancel): close the run.
        return run_transition(run_id=run.id, to=mapped, error=flow_run.message or flow_run.state_name)
    if mapped == RunStatus.SUCCEEDED:
        # Flows record their own success with a result; if Prefect says completed, trust it.
        return run_transition(run_id=run.id, to=mapped)
    return run_transition(run_id=run.id, to=mapped)


def run_logs(*, run: Run, offset: int = 0, limit: int = 200) -> LogPage:
    if not run.flow_run_id:
        return LogPage(lines=[], next_offset=offset)
    return orchestrator().run_logs(run.flow_run_id, offset=offset, limit=limit)


def run_cancel(*, run: Run) -> Run:
    if run.is_terminal:
        raise Conflict(f"The run has already ended ({run.status}).", code="run_finished")
    if run.flow_run_id:
        orchestrator().run_cancel(run.flow_run_id)
    return run_transition(run_id=run.id, to=RunStatus.CANCELLING)
