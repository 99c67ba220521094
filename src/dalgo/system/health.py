"""Health of every platform component, each with its status and latency."""

from __future__ import annotations

import threading
import time
import uuid
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


def timed_check(name: str, check: Callable[[], dict[str, Any]]) -> Component:
    """Run one check: its status (ok unless it says otherwise or raises), message and latency."""
    started = time.perf_counter()
    try:
        detail = check()
        status = detail.pop("status", "ok")
    except DalgoError as exc:
        status, detail = "down", {"message": exc.detail}
    except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
        status, detail = "down", {"message": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"name": name, "status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 1), **detail}


def database_check() -> dict[str, Any]:
    from dalgo.orgs.models import Org

    return {"message": f"{connection.vendor} reachable, {Org.objects.count()} org(s)"}


def cache_check() -> dict[str, Any]:
    """Write, read back and delete a key of its own (concurrent checks must not collide)."""
    value = uuid.uuid4().hex
    key = f"dalgo:health:probe:{value}"
    cache.set(key, value, timeout=30)
    read = cache.get(key)
    cache.delete(key)
    backend = "redis" if settings.DALGO_REDIS_URL else "file cache"
    if read != value:
        return {"status": "down", "message": f"{backend}: did not return what was written"}
    return {"message": f"{backend}: write/read ok"}


def broker_check() -> dict[str, Any]:
    from dalgo.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
    return {"message": f"{'redis' if settings.DALGO_REDIS_URL else 'filesystem'} broker reachable"}


def _celery_beat() -> dict[str, Any]:
    """Beat schedules a heartbeat task and a worker runs it: a fresh timestamp proves both."""
    last = cache.get(HEARTBEAT_CACHE_KEY)
    if not last:
        return {"status": "down", "message": "no heartbeat yet: is the Celery worker and beat running?"}
    age = (timezone.now() - datetime.fromisoformat(last)).total_seconds()
    limit = settings.CELERY_HEARTBEAT_SECONDS * 3 + 10
    return {"status": "ok" if age <= limit else "down", "message": f"last heartbeat {age:.0f}s ago"}


_REMOTE_TTL_SECONDS = 5.0
_remote_cache: tuple[float, list[Component]] | None = None
_remote_lock = threading.Lock()


def _remote_components() -> list[Component]:
    """Orchestrator, Prefect and worker status, reused for a few seconds: /health is polled by
    load balancers and must not turn each poll into calls to the orchestrator and Prefect."""
    global _remote_cache
    with _remote_lock:
        now = time.monotonic()
        if _remote_cache is not None and now - _remote_cache[0] < _REMOTE_TTL_SECONDS:
            return _remote_cache[1]
        components = _orchestrator_and_prefect()
        _remote_cache = (time.monotonic(), components)
        return components


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
    prefect = {"name": "prefect", **health.prefect.model_dump()}
    pool = {"name": "prefect-worker", **health.work_pool.model_dump()}
    return [{"name": "orchestrator", "status": health.status, "latency_ms": round(latency, 1)}, prefect, pool]


def components_health() -> list[Component]:
    local = [
        ("database", database_check),
        ("cache", cache_check),
        ("broker", broker_check),
        ("celery-beat", _celery_beat),
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        remote = pool.submit(_remote_components)
        results = [{"name": "web", "status": "ok", "latency_ms": 0.0}]
        results += [timed_check(name, check) for name, check in local]
        results += remote.result()
    return results


def overall_status(components: list[Component]) -> str:
    return "ok" if all(c["status"] == "ok" for c in components) else "degraded"
