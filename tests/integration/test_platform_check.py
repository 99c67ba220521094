"""The platform check end to end: service -> orchestrator -> Prefect -> process worker -> app DB."""

from __future__ import annotations

import time

import pytest

from dalgo.runs import services as run_services
from dalgo.runs.models import Run, RunStatus
from dalgo.system.services import platform_check_start
from tests.fixtures import make_org, make_user

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.mark.django_db(transaction=True)
def test_platform_check_succeeds_with_logs(orchestrator_url: str) -> None:
    owner = make_user()
    org = make_org(owner=owner)

    started = time.monotonic()
    run = platform_check_start(org=org, actor=owner)
    assert run.flow_run_id
    assert run.status == RunStatus.QUEUED

    deadline = time.monotonic() + 90
    running_seen_at = None
    while True:
        run = run_services.run_refresh(run=Run.objects.get(pk=run.pk))
        if run.status != RunStatus.QUEUED and running_seen_at is None:
            running_seen_at = time.monotonic() - started
        if run.is_terminal:
            break
        assert time.monotonic() < deadline, f"run still {run.status}"
        time.sleep(0.25)
    total = time.monotonic() - started
    print(f"\nplatform check: running after {running_seen_at:.1f}s, finished after {total:.1f}s")

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.error == ""
    assert run.started_at and run.finished_at and run.started_at <= run.finished_at
    assert set(run.result) == {"database", "cache", "broker", "data_dir", "worker"}
    assert all(check["ok"] for check in run.result.values()), run.result
    assert "postgresql reachable, 1 org(s)" in run.result["database"]["message"]
    assert "redis" in run.result["cache"]["message"]
    assert run.progress == {"done": 5, "total": 5, "current": "worker"}

    # Logs arrive in batches: read them "since offset" until the flow's last line is in.
    lines, offset, deadline = [], 0, time.monotonic() + 20
    while time.monotonic() < deadline:
        page = run_services.run_logs(run=run, offset=offset, limit=50)
        lines += page.lines
        offset = page.next_offset
        if any(line.message == "Finished in state Completed()" and line.task is None for line in lines):
            break
        time.sleep(0.3)
    messages = [line.message for line in lines]
    for prefix in ("database: ", "cache: ", "broker: ", "data dir: ", "worker: "):
        assert any(m.startswith(prefix) for m in messages), (prefix, messages)
    tasks = {line.task.rsplit("-", 1)[0] for line in lines if line.task}
    assert tasks >= {"check-database", "check-cache", "check-broker", "check-data-dir", "check-worker"}
    assert "Platform check succeeded: 5 checks ok" in messages

    # Idempotent given the run id: running the flow again for an ended run changes nothing.
    finished_at = run.finished_at
    run_services.run_transition(run_id=run.id, to=RunStatus.RUNNING)
    assert Run.objects.get(pk=run.pk).finished_at == finished_at


@pytest.mark.django_db(transaction=True)
def test_the_sweep_closes_a_run_whose_flow_died_without_recording_it(orchestrator_url: str) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from dalgo.runs.orchestrator_client import DeploymentSpec
    from dalgo.runs.tasks import runs_refresh_active

    owner = make_user()
    org = make_org(owner=owner)
    run = run_services.run_start(
        org=org,
        kind="test",
        deployment="dies-before-recording",
        spec=DeploymentSpec(entrypoint="tests.integration.flows_for_tests:dies_before_recording"),
        actor=owner,
    )
    Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    deadline = time.monotonic() + 90
    while not Run.objects.get(pk=run.pk).is_terminal:
        assert time.monotonic() < deadline, "the sweep never closed the run"
        runs_refresh_active()
        time.sleep(0.5)
    run = Run.objects.get(pk=run.pk)
    assert run.status == RunStatus.FAILED
    assert run.error  # Prefect's message about the failure, shown plainly
    assert run.finished_at is not None
