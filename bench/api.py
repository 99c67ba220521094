"""API throughput under load, against the real server in production mode.

Starts `dalgo up` with PostgreSQL as app DB and Redis as broker/cache (plus its local Prefect
server, orchestrator and worker, so /health is all green), seeds an org and an API token, then runs
50 concurrent clients for --seconds on an authenticated read endpoint (GET /api/org/members with a
Bearer token) and on /health. Prints requests/s, p50/p99 latency and errors for each, and the ratio
of the authenticated endpoint's throughput to /health's (the baseline, measured in the same run).

    uv run python bench/api.py [--seconds 30] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "dalgo_bench"
SEED = """
import django; django.setup()
from dalgo.accounts.models import User
from dalgo.orgs import services
user = User.objects.create_user(email="bench@example.org", password="bench-password-123")
org = services.org_create(name="Bench NGO", creator=user)
from dalgo.orgs.models import Membership
for i in range(20):
    other = User.objects.create_user(email=f"member{i}@example.org", password=None)
    Membership.objects.create(org=org, user=other, role="member")
_token, raw = services.api_token_create(org=org, user=user, name="bench")
print(raw)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database() -> str:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    return f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"


async def load(url: str, headers: dict[str, str], seconds: float, clients: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    error_kinds: dict[str, int] = {}
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:

        async def one_client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    kind = "" if response.status_code == 200 else f"HTTP {response.status_code}"
                    if response.status_code == 503 and url.endswith("/health"):
                        down = [c["name"] for c in response.json()["components"] if c["status"] != "ok"]
                        kind += f" ({', '.join(down)} down)"
                except httpx.HTTPError as exc:
                    kind = type(exc).__name__
                latencies.append(time.perf_counter() - started)
                if kind:
                    errors += 1
                    error_kinds[kind] = error_kinds.get(kind, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
        "error_kinds": error_kinds,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="uvicorn worker processes")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="dalgo-bench-"))
    web, orch, prefect = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{web}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DALGO_", "PREFECT_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="dalgo.settings",
        DALGO_DATA_DIR=str(data_dir),
        DALGO_DATABASE_URL=fresh_database(),
        DALGO_DB_CONN_MAX_AGE="60",
        DALGO_REDIS_URL="redis://127.0.0.1:6379/13",
        DALGO_WEB_PORT=str(web),
        DALGO_ORCHESTRATOR_URL=f"http://127.0.0.1:{orch}",
        DALGO_PREFECT_API_URL=f"http://127.0.0.1:{prefect}/api",
        DALGO_PREFECT_WORK_POOL="dalgo-bench",
        DALGO_LOG_LEVEL="WARNING",
        DALGO_WEB_WORKERS=str(args.workers),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    log = open(data_dir / "dalgo-up.log", "w")
    dalgo = Path(sys.executable).parent / "dalgo"
    proc = subprocess.Popen([str(dalgo), "up"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                print((data_dir / "dalgo-up.log").read_text()[-3000:])
                print("the server did not become healthy")
                return 1
            time.sleep(1)
        token = (
            subprocess.run([sys.executable, "-c", SEED], env=env, check=True, capture_output=True, text=True)
            .stdout.strip()
            .splitlines()[-1]
        )

        auth = {"Authorization": f"Bearer {token}"}
        print(f"{args.clients} clients, {args.seconds:.0f} s each, production mode (PostgreSQL + Redis)")
        results = {}
        for name, url, headers in [
            ("GET /health (baseline)", f"{base}/health", {}),
            ("GET /api/org/members (token)", f"{base}/api/org/members", auth),
        ]:
            asyncio.run(load(url, headers, 2, 5))  # warm up
            results[name] = r = asyncio.run(load(url, headers, args.seconds, args.clients))
            print(
                f"{name:32s} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
                f"errors {r['errors']:.0f} of {r['requests']:.0f} {r['error_kinds'] or ''}"
            )
        base_rps = results["GET /health (baseline)"]["rps"]
        api_rps = results["GET /api/org/members (token)"]["rps"]
        print(f"ratio authenticated/baseline: {api_rps / base_rps:.2f}")
        return 0 if all(r["errors"] == 0 for r in results.values()) else 1
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
