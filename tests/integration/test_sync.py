"""Syncs through the real stack, and through worker deaths (the killed workers save every checkpoint,
DALGO_SYNC_CHECKPOINT_SECONDS=0, so kills land between many of them).

1. Sync now: service -> orchestrator -> Prefect -> process worker -> connector -> loader -> DuckDB,
   with the run's progress, result and logs.
2. kill -9 of the worker (the process running the sync flow's body, and its connector) at random
   points of an incremental append_dedup sync, at least 5 times: each next start finds the dead
   worker's lock expired, resumes from the last committed checkpoint; afterwards the table holds
   exactly the source's latest row per key (0 lost, 0 duplicated).
3. kill -9 during an overwrite: the old table stays whole and queryable; the next sync replaces it.

The edgy test connector (tests/connectors/edgy) is the source: deterministic records whose ids
repeat every `keys` records, re-sending `overlap` records before the saved cursor on resume, as
incremental sources do.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from typing import Any

import duckdb
import pytest
from django.db import connection as db_connection

from dalgo.ingestion import connections as connection_services
from dalgo.ingestion.connectors.install import connector_env_custom
from dalgo.ingestion.models import CUSTOM_CONNECTOR, Connection, Source
from dalgo.runs import services as run_services
from dalgo.runs.models import Run, RunStatus
from dalgo.warehouses import services as warehouse_services
from dalgo.warehouses.types import duckdb_path
from tests.connectors.support import EDGY_PATH
from tests.fixtures import make_org, make_user
from tests.integration.conftest import _database_url

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

WORKER = """
import sys
from dalgo.runs.flow_support import django_setup
django_setup()
from dalgo.ingestion.connections import connection_sync_execute
connection_sync_execute(run_id=sys.argv[1], log=lambda level, text: print(level, text, flush=True))
"""


def _setup(**config: Any) -> tuple[Any, Any, Connection]:
    connector_env_custom(str(EDGY_PATH))  # installed once per session data dir
    owner = make_user()
    org = make_org(owner=owner)
    warehouse_services.warehouse_save(org=org, actor=owner, warehouse_type="duckdb", name="Main", config={})
    source = Source(org=org, name="Edgy", connector_slug=CUSTOM_CONNECTOR, package=str(EDGY_PATH), version="",
                    config=config)  # fmt: skip
    source.secrets = {"/api_key": "edgy-key-0001"}
    source.save()
    connection = connection_services.connection_create(
        org=org, actor=owner, name="Edgy", source_id=source.pk, destination_schema="edgy", streams=None
    )
    return owner, org, connection


def _rows(org: Any, sql: str) -> list[tuple[Any, ...]]:
    conn = duckdb.connect(str(duckdb_path(org.pk)), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_sync_now_runs_on_the_prefect_worker(orchestrator_url: str) -> None:
    owner, org, connection = _setup(records=300, keys=100, state_every=40)
    started = time.monotonic()
    run = connection_services.connection_sync_start(org=org, connection_id=connection.pk, actor=owner)
    assert run.flow_run_id and Connection.objects.get().sync_run_id == run.pk
    with pytest.raises(connection_services.Conflict) as again:
        connection_services.connection_sync_start(org=org, connection_id=connection.pk, actor=owner)
    assert again.value.related == {"run_id": str(run.pk)}

    deadline = time.monotonic() + 120
    while not (run := run_services.run_refresh(run=Run.objects.get(pk=run.pk))).is_terminal:
        assert time.monotonic() < deadline, f"sync still {run.status}"
        time.sleep(0.25)
    print(f"\nsync through Prefect: {time.monotonic() - started:.1f}s")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.result["records"] == 300 and run.result["streams"]["alpha"]["status"] == "complete"
    assert run.heartbeat_at is not None
    assert Connection.objects.get().sync_run is None
    assert _rows(org, "SELECT count(*), max(updated_at) FROM edgy.alpha") == [(100, 300)]

    lines, offset, deadline = [], 0, time.monotonic() + 20
    while time.monotonic() < deadline and not any("Sync finished" in line.message for line in lines):
        page = run_services.run_logs(run=run, offset=offset, limit=200)
        lines, offset = lines + page.lines, page.next_offset
        time.sleep(0.3)
    messages = "\n".join(line.message for line in lines)
    assert "Syncing 1 stream(s) into duckdb:edgy" in messages and "Sync finished: 300 records" in messages
    assert "edgy-key-0001" not in messages


class Worker:
    """The sync flow's body in a process of its own (what a Prefect process worker runs), killable."""

    def __init__(self, run: Run):
        env = {**os.environ, "DALGO_DATABASE_URL": _database_url(db_connection.settings_dict),
               "DALGO_CELERY_EAGER": "true", "DALGO_SYNC_CHECKPOINT_SECONDS": "0"}  # fmt: skip
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER, str(run.pk)], env=env, start_new_session=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)  # the worker and its connector
        self.proc.wait()

    def wait(self, timeout: float) -> str:
        out, _ = self.proc.communicate(timeout=timeout)
        return out.decode(errors="replace")


def _start(org: Any, owner: Any, connection: Connection) -> Run:
    """Take the lock and record the run as `connection_sync_start` does, without Prefect."""
    return connection_services.connection_sync_start(org=org, connection_id=connection.pk, actor=owner)


@pytest.fixture
def no_prefect(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setattr(connection_services, "run_trigger", lambda *, run, spec: run)
    settings.DALGO_RUN_HEARTBEAT_TIMEOUT = 1  # a killed worker's lock expires quickly here


def _checkpoints(connection: Connection) -> int:
    state = Connection.objects.get(pk=connection.pk).state
    return int(((state.get("streams") or {}).get("alpha") or {}).get("stream", {}).get("stream_state", {})
               .get("updated_at", 0))  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_kill_9_during_incremental_dedup_loses_and_duplicates_nothing(no_prefect: None) -> None:
    records, keys = 2400, 300
    owner, org, connection = _setup(records=records, keys=keys, state_every=60, overlap=25, sleep_ms=1)
    rng = random.Random(20261129)
    kills = 0
    while kills < 6:
        run = _start(org, owner, connection)
        worker = Worker(run)
        while Run.objects.get(pk=run.pk).heartbeat_at is None and worker.proc.poll() is None:
            time.sleep(0.02)  # the worker has taken the run (killed before, Prefect would report it crashed)
        position = _checkpoints(connection)
        # Wait for 1-4 more checkpoints (or a short random time), then kill.
        target, deadline = position + 60 * rng.randint(1, 4), time.monotonic() + rng.uniform(0.3, 2.5)
        while _checkpoints(connection) < target and time.monotonic() < deadline and worker.proc.poll() is None:
            time.sleep(0.02)
        if worker.proc.poll() is not None:
            break  # finished before we could kill it
        worker.kill()
        kills += 1
        time.sleep(1.1)  # past the heartbeat timeout: the next start takes over the dead worker's lock
    assert kills >= 5, "the sync finished too fast to be killed 5 times"

    run = _start(org, owner, connection)
    output = Worker(run).wait(timeout=120)
    run = Run.objects.get(pk=run.pk)
    assert run.status == RunStatus.SUCCEEDED, output
    dead = Run.objects.filter(status=RunStatus.FAILED)
    assert dead.count() >= kills - 1 and all("stopped responding" in r.error for r in dead)

    expected = {(i - 1) % keys + 1: i for i in range(1, records + 1)}  # the latest version of each key
    loaded = _rows(org, "SELECT id, updated_at FROM edgy.alpha")
    assert len(loaded) == len({r[0] for r in loaded}), "duplicated keys"
    assert dict(loaded) == expected, "lost or stale rows"


@pytest.mark.django_db(transaction=True)
def test_kill_9_during_overwrite_keeps_the_old_table(no_prefect: None) -> None:
    owner, org, connection = _setup(records=500)
    streams = [{"name": "alpha", "sync_mode": "full_refresh", "destination_mode": "overwrite"}]
    connection = connection_services.connection_update(
        org=org, actor=owner, connection_id=connection.pk, name="Edgy", destination_schema="edgy", streams=streams
    )
    run = _start(org, owner, connection)
    assert "Sync finished: 500 records" in Worker(run).wait(timeout=120)
    before = _rows(org, "SELECT count(*), sum(id) FROM edgy.alpha")

    Source.objects.filter(pk=connection.source_id).update(config={"records": 5000, "sleep_ms": 1, "state_every": 100})
    run = _start(org, owner, connection)
    worker = Worker(run)
    deadline = time.monotonic() + 60
    while (Run.objects.get(pk=run.pk).progress or {}).get("records", 0) < 800:
        assert time.monotonic() < deadline and worker.proc.poll() is None, "the sync never got going"
        time.sleep(0.05)
    worker.kill()
    assert _rows(org, "SELECT count(*), sum(id) FROM edgy.alpha") == before == [(500, 500 * 501 // 2)]

    time.sleep(1.1)
    Source.objects.filter(pk=connection.source_id).update(config={"records": 700})
    run = _start(org, owner, connection)
    assert "Sync finished: 700 records" in Worker(run).wait(timeout=120)
    assert _rows(org, "SELECT count(*) FROM edgy.alpha") == [(700,)]
    leftovers = "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '\\_dalgo\\_tmp%' ESCAPE '\\'"
    assert _rows(org, leftovers) == [(0,)]
