"""The built-in platform check: proves web -> orchestrator -> Prefect -> worker -> app DB end to end.

Deployed by module entrypoint (`dalgo.system.flows:platform_check`) and run by a Prefect process
worker. It receives the Run's id only, sets Django up with the same DALGO_* settings as web, and
records progress and the result through `dalgo.runs.services`. Idempotent given the run id: a run
that has already ended is left alone.
"""

from __future__ import annotations

import platform
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from dalgo.runs.flow_support import django_setup

CHECKS = ("database", "cache", "broker", "data_dir", "worker")


def _ok(message: str) -> dict[str, Any]:
    return {"ok": True, "message": message}


def _checked(name: str, check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one of the health checks web uses, log what it found, return {"ok", "message"}."""
    from dalgo.system.health import timed_check

    logger = get_run_logger()
    label = name.replace("_", " ")
    logger.info("Checking %s", label)
    outcome = timed_check(name, check)
    result = {"ok": outcome["status"] == "ok", "message": f"{outcome.get('message', '')} ({outcome['latency_ms']} ms)"}
    (logger.info if result["ok"] else logger.error)("%s: %s", label, result["message"])
    return result


@task(name="check-database")
def check_database() -> dict[str, Any]:
    from dalgo.system.health import database_check

    return _checked("database", database_check)


@task(name="check-cache")
def check_cache() -> dict[str, Any]:
    from dalgo.system.health import cache_check

    return _checked("cache", cache_check)


@task(name="check-broker")
def check_broker() -> dict[str, Any]:
    from dalgo.system.health import broker_check

    return _checked("broker", broker_check)


def _data_dir_check(run_id: str) -> dict[str, Any]:
    from django.conf import settings

    data_dir = Path(settings.DALGO_DATA_DIR)
    probe = data_dir / f".platform-check-{run_id}"
    probe.write_text(run_id)
    ok = probe.read_text() == run_id
    probe.unlink()
    return (
        {"message": f"{data_dir} writable"} if ok else {"status": "down", "message": f"{data_dir}: read back differs"}
    )


@task(name="check-data-dir")
def check_data_dir(run_id: str) -> dict[str, Any]:
    return _checked("data_dir", lambda: _data_dir_check(run_id))


@task(name="check-worker")
def check_worker() -> dict[str, Any]:
    import prefect

    logger = get_run_logger()
    logger.info("Checking the worker environment")
    message = (
        f"host {socket.gethostname()}, Python {platform.python_version()}, Prefect {prefect.__version__}, "
        f"{sys.executable}"
    )
    logger.info("worker: %s", message)
    return _ok(message)


@flow(name="platform-check", log_prints=False, retries=0)
def platform_check(run_id: str) -> dict[str, Any]:
    logger = get_run_logger()
    django_setup()
    from django.db import close_old_connections, connections

    from dalgo.runs.models import Run, RunStatus
    from dalgo.runs.services import run_progress_set, run_transition

    try:
        run = Run.objects.get(pk=run_id)
        if run.is_terminal:
            logger.info("Run %s already ended (%s): nothing to do", run_id, run.status)
            return run.result or {}
        run_transition(run_id=run_id, to=RunStatus.RUNNING)
        logger.info("Platform check %s started", run_id)

        result: dict[str, Any] = {}
        steps: tuple[tuple[str, Callable[[], dict[str, Any]]], ...] = (
            ("database", lambda: check_database()),
            ("cache", lambda: check_cache()),
            ("broker", lambda: check_broker()),
            ("data_dir", lambda: check_data_dir(run_id)),
            ("worker", lambda: check_worker()),
        )
        for done, (name, step) in enumerate(steps, start=1):
            result[name] = step()
            run_progress_set(run_id=run_id, progress={"done": done, "total": len(steps), "current": name})
            close_old_connections()

        failed = [name for name, outcome in result.items() if not outcome["ok"]]
        if failed:
            error = "; ".join(f"{name}: {result[name]['message']}" for name in failed)
            run_transition(run_id=run_id, to=RunStatus.FAILED, error=f"Checks failed: {error}", result=result)
            logger.error("Platform check failed: %s", error)
            raise RuntimeError(f"Checks failed: {error}")
        run_transition(run_id=run_id, to=RunStatus.SUCCEEDED, result=result)
        logger.info("Platform check succeeded: %d checks ok", len(result))
        return result
    except Run.DoesNotExist:
        logger.error("Run %s does not exist in the app database", run_id)
        raise
    except RuntimeError:
        raise
    except Exception as exc:
        message = f"The platform check stopped: {type(exc).__name__}: {str(exc)[:300]}"
        try:
            run_transition(run_id=run_id, to=RunStatus.FAILED, error=message)
        finally:
            logger.error(message)
        raise
    finally:
        connections.close_all()
