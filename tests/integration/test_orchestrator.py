"""The orchestrator against a real Prefect server and process worker (tests/stack.py)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from dalgo.core.errors import NotFound
from dalgo.runs.orchestrator_client import DeploymentSpec, FlowRunOut, OrchestratorClient

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

FINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


def wait_for_state(client: OrchestratorClient, flow_run_id: str, states: set[str], timeout: float = 60) -> FlowRunOut:
    deadline = time.monotonic() + timeout
    while True:
        run = client.run_get(flow_run_id)
        if run.state in states:
            return run
        assert time.monotonic() < deadline, f"flow run stuck in {run.state} ({run.state_name})"
        time.sleep(0.25)


@pytest.fixture
def client(orchestrator_url: str) -> OrchestratorClient:
    return OrchestratorClient(base_url=orchestrator_url, timeout=30)


def deployment_name() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_health_reports_prefect_and_worker(client: OrchestratorClient) -> None:
    health, latency_ms = client.health()
    assert health.status == "ok"
    assert health.prefect.status == "ok"
    assert health.work_pool.status == "ok"
    assert "1 worker online" in (health.work_pool.message or "")
    assert latency_ms < 2000


def test_reconcile_is_idempotent(client: OrchestratorClient, orchestrator_url: str) -> None:
    name = deployment_name()
    spec = DeploymentSpec(entrypoint="tests.integration.flows_for_tests:hello", parameters={"lines": 1})

    first = client.deployment_reconcile(name, spec)
    assert (first.created, first.changed) == (True, True)
    again = client.deployment_reconcile(name, spec)
    assert (again.created, again.changed) == (False, False)
    assert again.deployment_id == first.deployment_id

    for changed_spec in (
        spec.model_copy(update={"parameters": {"lines": 2}}),
        spec.model_copy(update={"parameters": {"lines": 2}, "cron": "0 3 * * *", "timezone": "Asia/Kolkata"}),
        spec.model_copy(
            update={
                "parameters": {"lines": 2},
                "cron": "0 3 * * *",
                "timezone": "Asia/Kolkata",
                "paused": True,
                "tags": ["x"],
                "description": "nightly",
            }
        ),
    ):
        out = client.deployment_reconcile(name, changed_spec)
        assert (out.created, out.changed) == (False, True)
        assert out.deployment_id == first.deployment_id
        assert client.deployment_reconcile(name, changed_spec).changed is False

    # Another flow behind the same name replaces the deployment.
    moved = client.deployment_reconcile(name, DeploymentSpec(entrypoint="tests.integration.flows_for_tests:sleepy"))
    assert moved.changed is True

    client.deployment_delete(name)
    client.deployment_delete(name)  # idempotent
    assert httpx.delete(f"{orchestrator_url}/deployments/{name}").status_code == 204
    with pytest.raises(NotFound):
        client.run_trigger(name, {})
    created_again = client.deployment_reconcile(name, spec)
    assert created_again.created is True
    client.deployment_delete(name)


def test_reconcile_rejects_bad_specs(orchestrator_url: str) -> None:
    bad_cron = {"entrypoint": "tests.integration.flows_for_tests:hello", "cron": "not a cron"}
    assert httpx.put(f"{orchestrator_url}/deployments/bad", json=bad_cron, timeout=30).status_code == 422
    script = {"entrypoint": "flows/hello.py:hello"}
    assert httpx.put(f"{orchestrator_url}/deployments/bad", json=script, timeout=30).status_code == 422


def test_run_completes_with_paged_logs(client: OrchestratorClient) -> None:
    name = deployment_name()
    client.deployment_reconcile(name, DeploymentSpec(entrypoint="tests.integration.flows_for_tests:hello"))
    key = uuid.uuid4().hex
    triggered = client.run_trigger(name, {"name": "dalgo", "lines": 5}, idempotency_key=key)
    assert triggered.state in {"SCHEDULED", "PENDING"}
    assert client.run_trigger(name, {"name": "dalgo", "lines": 5}, idempotency_key=key).flow_run_id == (
        triggered.flow_run_id
    )

    done = wait_for_state(client, triggered.flow_run_id, FINAL)
    assert done.state == "COMPLETED", done
    assert done.start_time is not None and done.end_time is not None

    # Poll "new lines since offset" the way the UI does, in pages of 2.
    expected_last = "Finished in state Completed()"
    lines, offset, deadline = [], 0, time.monotonic() + 20
    while time.monotonic() < deadline:
        page = client.run_logs(done.flow_run_id, offset=offset, limit=2)
        assert len(page.lines) <= 2
        assert page.next_offset == offset + len(page.lines)
        lines += page.lines
        offset = page.next_offset
        if not page.lines:
            if any(line.message == expected_last and line.task is None for line in lines):
                break
            time.sleep(0.3)
    messages = [line.message for line in lines]
    for i in range(5):
        assert f"hello dalgo line {i}" in messages
    assert messages.index("hello dalgo line 0") < messages.index("hello dalgo line 4")
    assert [line.timestamp for line in lines] == sorted(line.timestamp for line in lines)
    task_lines = [line for line in lines if line.message == "task says dalgo"]
    assert task_lines and task_lines[0].task and task_lines[0].task.startswith("shout")
    assert {line.level for line in lines} >= {"INFO", "WARNING"}
    whole = client.run_logs(done.flow_run_id, offset=0, limit=1000)
    assert [line.message for line in whole.lines] == messages
    assert client.run_logs(done.flow_run_id, offset=whole.next_offset).lines == []
    client.deployment_delete(name)


def test_cancel_a_running_flow(client: OrchestratorClient) -> None:
    name = deployment_name()
    client.deployment_reconcile(name, DeploymentSpec(entrypoint="tests.integration.flows_for_tests:sleepy"))
    triggered = client.run_trigger(name, {"seconds": 120})
    wait_for_state(client, triggered.flow_run_id, {"RUNNING"} | FINAL)
    cancelling = client.run_cancel(triggered.flow_run_id)
    assert cancelling.state in {"CANCELLING", "CANCELLED"}
    cancelled = wait_for_state(client, triggered.flow_run_id, FINAL, timeout=45)
    assert cancelled.state == "CANCELLED", cancelled
    # Cancelling an ended run answers its state and changes nothing.
    assert client.run_cancel(triggered.flow_run_id).state == "CANCELLED"
    client.deployment_delete(name)


def test_cancel_before_a_worker_picks_it_up(client: OrchestratorClient) -> None:
    name = deployment_name()
    client.deployment_reconcile(name, DeploymentSpec(entrypoint="tests.integration.flows_for_tests:sleepy"))
    triggered = client.run_trigger(name, {"seconds": 1})
    out = client.run_cancel(triggered.flow_run_id)
    assert out.state in {"CANCELLING", "CANCELLED"}
    assert wait_for_state(client, triggered.flow_run_id, FINAL, timeout=45).state == "CANCELLED"
    client.deployment_delete(name)


def test_unknown_runs_are_404(client: OrchestratorClient, orchestrator_url: str) -> None:
    unknown = str(uuid.uuid4())
    for call in (
        lambda: client.run_get(unknown),
        lambda: client.run_logs(unknown),
        lambda: client.run_cancel(unknown),
        lambda: client.run_get("not-a-uuid"),
    ):
        with pytest.raises(NotFound):
            call()
    assert httpx.get(f"{orchestrator_url}/runs/not-a-uuid/logs").status_code == 404
    assert httpx.post(f"{orchestrator_url}/deployments/nope-{unknown}/runs", json={}).status_code == 404
