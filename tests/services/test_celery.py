"""Celery for real: a worker and beat as separate processes, in production mode (Redis broker and
cache) and in embedded mode (kombu's filesystem broker and a file cache), no server of our own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.fixtures import Mailbox

REDIS_URL = "redis://127.0.0.1:6379/14"


@contextmanager
def celery_processes(env: dict[str, str], *, beat: bool, logdir: Path) -> Iterator[None]:
    procs = []
    commands = [["worker", "--pool", "solo", "--loglevel", "INFO", "-n", f"test-{os.getpid()}@%h"]]
    if beat:
        commands.append(["beat", "--loglevel", "INFO", "-s", str(logdir / "beat-schedule")])
    for i, args in enumerate(commands):
        log = open(logdir / f"celery-{i}.log", "w")
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "dalgo.celery", *args],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                ),
                log,
            )
        )
    try:
        yield
    finally:
        for proc, _log in procs:
            proc.terminate()
        for proc, log in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _wait(check: object, timeout: float, what: str, logdir: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    logs = "\n".join(p.read_text()[-3000:] for p in sorted(logdir.glob("celery-*.log")))
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DALGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="dalgo.settings",
        DALGO_DATA_DIR=str(tmp_path / "data"),
        DALGO_DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite3'}",
        DALGO_HEARTBEAT_SECONDS="1",
    )
    return env


def test_production_mode_worker_sends_email_through_redis_and_beat_ticks(
    tmp_path: Path, smtp_server: tuple[object, int], mailbox: Mailbox
) -> None:
    _inbox, port = smtp_server
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    env = _base_env(tmp_path)
    env.update(DALGO_REDIS_URL=REDIS_URL, DALGO_EMAIL_HOST="127.0.0.1", DALGO_EMAIL_PORT=str(port))
    with celery_processes(env, beat=True, logdir=tmp_path):
        # Publish from another process configured like web, through Redis.
        publish = (
            "import django; django.setup(); from dalgo.core.tasks import send_email; "
            "send_email.delay(to='field@example.org', subject='Sync finished', body='All good.')"
        )
        subprocess.run([sys.executable, "-c", publish], env=env, check=True, timeout=60)
        _wait(lambda: mailbox.to("field@example.org"), 60, "the email", tmp_path)
        assert mailbox.to("field@example.org")[0]["Subject"] == "Sync finished"
        # Beat schedules the heartbeat, the worker runs it, the Redis cache holds it.
        _wait(lambda: any(b"heartbeat" in k for k in client.keys("*")), 60, "the beat heartbeat", tmp_path)


def test_embedded_mode_needs_no_server(tmp_path: Path) -> None:
    env = _base_env(tmp_path)
    read = (
        "import django; django.setup(); from django.core.cache import cache; "
        "from dalgo.core.tasks import HEARTBEAT_CACHE_KEY as k; print(cache.get(k) or '')"
    )

    def heartbeat() -> str:
        out = subprocess.run([sys.executable, "-c", read], env=env, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()

    assert heartbeat() == ""
    with celery_processes(env, beat=True, logdir=tmp_path):
        _wait(heartbeat, 60, "the heartbeat through the filesystem broker", tmp_path)
    assert (tmp_path / "data" / "broker").is_dir()


@pytest.mark.django_db
def test_health_reports_every_component(api: object, settings: object) -> None:
    from dalgo.system.health import components_health

    names = [c["name"] for c in components_health()]
    assert names == [
        "web",
        "database",
        "cache",
        "broker",
        "celery-beat",
        "orchestrator",
        "prefect",
        "prefect-worker",
    ]
