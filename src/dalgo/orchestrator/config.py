"""Orchestrator settings, read from DALGO_* env. Imported before Prefect so its client is pointed
at the right server (never Prefect's ephemeral in-process server)."""

from __future__ import annotations

import os

PREFECT_API_URL = os.environ.get("DALGO_PREFECT_API_URL") or "http://127.0.0.1:4200/api"
WORK_POOL = os.environ.get("DALGO_PREFECT_WORK_POOL") or "dalgo"
# The command a process worker runs a flow with; "" falls back to Prefect's own (slower) launcher.
FLOW_COMMAND = os.environ.get("DALGO_PREFECT_FLOW_COMMAND", "python -m prefect.engine")
WORKER_ONLINE_SECONDS = 30.0
HEALTH_TIMEOUT_SECONDS = 3.0


def prefect_env_apply() -> None:
    """Point Prefect's client at DALGO_PREFECT_API_URL and switch its telemetry off."""
    os.environ["PREFECT_API_URL"] = PREFECT_API_URL
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "false")
    # Fail fast: the web process waits on us with a 10 s timeout.
    os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "1")


prefect_env_apply()
