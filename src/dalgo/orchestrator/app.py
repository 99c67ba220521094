"""FastAPI app of the orchestrator: `uvicorn dalgo.orchestrator.app:app --port 8001`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from prefect.client.orchestration import PrefectClient, get_client

from dalgo.orchestrator import (
    config,
    prefect_ops,
)
from dalgo.orchestrator.schemas import (
    DeploymentOut,
    DeploymentSpec,
    FlowRunOut,
    HealthOut,
    LogPage,
    RunTrigger,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # One long-lived client (one connection pool) for the whole process.
    async with get_client() as client:
        app.state.prefect = client
        yield


app = FastAPI(title="Dalgo orchestrator", version="1", lifespan=lifespan)


def prefect(request: Request) -> PrefectClient:
    client: PrefectClient = request.app.state.prefect
    return client


@app.exception_handler(prefect_ops.NotFoundError)
async def _not_found(request: Request, exc: prefect_ops.NotFoundError) -> JSONResponse:
    return JSONResponse({"detail": "Not found.", "code": "not_found"}, status_code=404)


@app.exception_handler(ValueError)
async def _invalid(request: Request, exc: ValueError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)[:300], "code": "invalid"}, status_code=422)


@app.exception_handler(httpx.HTTPError)
async def _prefect_unavailable(request: Request, exc: httpx.HTTPError) -> JSONResponse:
    detail = f"Prefect at {config.PREFECT_API_URL} failed: {type(exc).__name__}"
    if isinstance(exc, httpx.HTTPStatusError):
        detail += f" {exc.response.status_code} {exc.response.text[:200]}"
    return JSONResponse({"detail": detail, "code": "prefect_unavailable"}, status_code=503)


@app.get("/health", response_model=HealthOut)
async def health(request: Request) -> HealthOut:
    return await prefect_ops.health(prefect(request))


@app.put("/deployments/{name}", response_model=DeploymentOut)
async def deployment_put(name: str, spec: DeploymentSpec, request: Request) -> DeploymentOut:
    return await prefect_ops.deployment_reconcile(prefect(request), name=name, spec=spec)


@app.delete("/deployments/{name}", status_code=204)
async def deployment_delete(name: str, request: Request) -> Response:
    await prefect_ops.deployment_delete(prefect(request), name=name)
    return Response(status_code=204)


@app.post("/deployments/{name}/runs", response_model=FlowRunOut)
async def run_trigger(name: str, body: RunTrigger, request: Request) -> FlowRunOut:
    return await prefect_ops.run_trigger(
        prefect(request), name=name, parameters=body.parameters, idempotency_key=body.idempotency_key
    )


@app.get("/runs/{flow_run_id}", response_model=FlowRunOut)
async def run_get(flow_run_id: str, request: Request) -> FlowRunOut:
    return await prefect_ops.run_get(prefect(request), flow_run_id=flow_run_id)


@app.get("/runs/{flow_run_id}/logs", response_model=LogPage)
async def run_logs(
    flow_run_id: str, request: Request, offset: int = Query(0, ge=0), limit: int = Query(200, ge=1, le=5000)
) -> LogPage:
    return await prefect_ops.run_logs(prefect(request), flow_run_id=flow_run_id, offset=offset, limit=limit)


@app.post("/runs/{flow_run_id}/cancel", response_model=FlowRunOut)
async def run_cancel(flow_run_id: str, request: Request) -> FlowRunOut:
    return await prefect_ops.run_cancel(prefect(request), flow_run_id=flow_run_id)
