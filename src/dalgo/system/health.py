"""Health of every platform component, each with its status and latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from dalgo.core.errors import DalgoError
from dalgo.core.tasks import HEARTBEAT_CACHE_KEY
from dalgo.runs.orchestrator_client import OrchestratorClient

Component = dict[str, Any]


def _timed(name: str, check: Callable[[], dict[str, Any]]) -> Component:
    started = time.perf_counter()
    try:
        detail = check()
        status = detail.pop("status", "ok")
    except DalgoError as exc:
        status, detail = "down", {"message": exc.detail}
    except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
        status, detail = "down", {"message": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"name": name, "status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 1), **detail}


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"message": connection.vendor}


def _cache() -> dict[str, Any]:
    cache.set("dalgo:health:probe", "1", timeout=30)
    if cache.get("dalgo:health:probe") != "1":
        return {"status": "down", "message": "cache did not return what was written"}
    return {"message": "redis" if settings.DALGO_REDIS_URL else "file cache"}


def _broker() -> dict[str, Any]:
    from dalgo.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
    return {"message": "redis" if settings.DALGO_REDIS_URL else "filesystem"}


def _celery_beat() -> dict[str, Any]:
    """Beat schedules a heartbeat task and a worker runs it: a fresh timestamp proves both."""
    last = cache.get(HEARTBEAT_CACHE_KEY)
    if not last:
        return {"status": "down", "message": "no heartbeat yet: is the Celery worker and beat running?"}
    age = (timezone.now() - datetime.fromisoformat(last)).total_seconds()
    limit = settings.CELERY_HEARTBEAT_SECONDS * 3 + 10
    return {"status": "ok" if age <= limit else "down", "message": f"last heartbeat {age:.0f}s ago"}


def _orchestrator_and_prefect() -> list[Component]:
    client = OrchestratorClient(timeout=5)
    started = time.perf_counter()
    try:
        health, latency = client.health()
    except DalgoError as exc:
        latency = round((time.perf_counter() - started) * 1000, 1)
        down = {"status": "down", "latency_ms": latency, "message": exc.detail}
        return [
            {"name": "orchestrator", **down},
            {"name": "prefect", "status": "unknown", "latency_ms": None, "message": "orchestrator unreachable"},
            {"name": "prefect-worker", "status": "unknown", "latency_ms": None, "message": "orchestrator unreachable"},
        ]
    prefect = {"name": "prefect", **health.prefect}
    pool = {"name": "prefect-worker", **health.work_pool}
    return [{"name": "orchestrator", "status": health.status, "latency_ms": round(latency, 1)}, prefect, pool]


def components_health() -> list[Component]:
    local = [
        ("database", _database),
        ("cache", _cache),
        ("broker", _broker),
        ("celery-beat", _celery_beat),
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        remote = pool.submit(_orchestrator_and_prefect)
        results = [{"name": "web", "status": "ok", "latency_ms": 0.0}]
        results += [_timed(name, check) for name, check in local]
        results += remote.result()
    return results


def overall_status(components: list[Component]) -> str:
    return "ok" if all(c["status"] == "ok" for c in components) else "degraded"
