"""Typed client of the orchestrator service: the only way web and workers reach Prefect."""

from __future__ import annotations

import time
from typing import Any

import httpx
from django.conf import settings

from dalgo.core.errors import NotFound, ServiceUnavailable
from dalgo.orchestrator.schemas import DeploymentOut, DeploymentSpec, FlowRunOut, HealthOut, LogLine, LogPage

__all__ = ["DeploymentOut", "DeploymentSpec", "FlowRunOut", "LogLine", "LogPage", "OrchestratorClient", "orchestrator"]


class OrchestratorClient:
    def __init__(self, base_url: str | None = None, timeout: float = 10.0):
        self.base_url = (base_url or settings.DALGO_ORCHESTRATOR_URL).rstrip("/")
        self.timeout = timeout

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = httpx.request(method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                f"The orchestrator at {self.base_url} cannot be reached ({type(exc).__name__}).",
                code="orchestrator_unavailable",
            ) from None
        if response.status_code == 404:
            raise NotFound("Not found in the orchestrator.", code="flow_run_not_found")
        if response.status_code >= 400:
            raise ServiceUnavailable(
                f"The orchestrator answered {response.status_code}: {response.text[:300]}",
                code="orchestrator_error",
            )
        return response

    def health(self) -> tuple[HealthOut, float]:
        started = time.perf_counter()
        response = self._request("GET", "/health")
        return HealthOut.model_validate(response.json()), (time.perf_counter() - started) * 1000

    def deployment_reconcile(self, name: str, spec: DeploymentSpec) -> DeploymentOut:
        response = self._request("PUT", f"/deployments/{name}", json=spec.model_dump(mode="json"))
        return DeploymentOut.model_validate(response.json())

    def deployment_delete(self, name: str) -> None:
        self._request("DELETE", f"/deployments/{name}")

    def run_trigger(
        self, deployment: str, parameters: dict[str, Any], idempotency_key: str | None = None
    ) -> FlowRunOut:
        body = {"parameters": parameters, "idempotency_key": idempotency_key}
        response = self._request("POST", f"/deployments/{deployment}/runs", json=body)
        return FlowRunOut.model_validate(response.json())

    def run_get(self, flow_run_id: str) -> FlowRunOut:
        return FlowRunOut.model_validate(self._request("GET", f"/runs/{flow_run_id}").json())

    def run_logs(self, flow_run_id: str, offset: int = 0, limit: int = 200) -> LogPage:
        response = self._request("GET", f"/runs/{flow_run_id}/logs", params={"offset": offset, "limit": limit})
        return LogPage.model_validate(response.json())

    def run_cancel(self, flow_run_id: str) -> FlowRunOut:
        return FlowRunOut.model_validate(self._request("POST", f"/runs/{flow_run_id}/cancel").json())


def orchestrator() -> OrchestratorClient:
    return OrchestratorClient()
