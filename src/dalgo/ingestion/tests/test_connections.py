"""Connections end to end through the API, with the protocol-speaking test connector (tests/connectors/
edgy, installed from its local path) syncing into a real DuckDB or PostgreSQL warehouse.

The Prefect leg (web -> orchestrator -> worker) is covered in tests/integration/test_sync_flow.py;
here `run_trigger` runs the flow's body (`connection_sync_execute`) in-process instead, so each test
sees the whole sync: connector process, loader, state, progress, lock, run record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from dalgo.ingestion import connections as connection_services
from dalgo.ingestion.connectors.install import connector_env_custom
from dalgo.ingestion.models import CUSTOM_CONNECTOR, Connection, Source
from dalgo.runs.models import Run, RunStatus
from dalgo.warehouses.types import duckdb_path
from tests.connectors.support import EDGY_PATH
from tests.fixtures import Api, TwoOrgs

pytestmark = pytest.mark.django_db

API_KEY = "edgy-key-0001"


@pytest.fixture(scope="module")
def edgy_connectors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("edgy-data")
    connector_env_custom(str(EDGY_PATH), data_dir=root)
    return root / "connectors"


@pytest.fixture
def data_dir(settings: Any, tmp_path: Path, edgy_connectors: Path) -> Path:
    settings.DALGO_DATA_DIR = tmp_path
    (tmp_path / "connectors").symlink_to(edgy_connectors)
    return tmp_path


@pytest.fixture
def inline_flows(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run the sync flow's body in-process when a sync is triggered; returns the log lines."""
    lines: list[str] = []

    def trigger(*, run: Run, spec: Any) -> Run:
        try:
            connection_services.connection_sync_execute(
                run_id=str(run.id), log=lambda level, text: lines.append(f"{level} {text}")
            )
        except (connection_services.SyncStopped, connection_services.ConnectorCancelled):
            pass
        return Run.objects.get(pk=run.pk)

    monkeypatch.setattr(connection_services, "run_trigger", trigger)
    return lines


def edgy_source(org: Any, **config: Any) -> Source:
    source = Source(org=org, name="Edgy", connector_slug=CUSTOM_CONNECTOR, package=str(EDGY_PATH), version="",
                    config={"records": 10, **config})  # fmt: skip
    source.secrets = {"/api_key": API_KEY}
    source.save()
    return source


def set_config(source: Source, **config: Any) -> None:
    source.refresh_from_db()
    source.config = {**source.config, **config}
    source.save()


def duckdb_warehouse(admin: Api) -> None:
    saved = admin.request("PUT", "/api/warehouse", {"type": "duckdb", "name": "Main", "config": {}})
    assert saved.status_code == 200, saved.content


def rows(org: Any, sql: str) -> list[tuple[Any, ...]]:
    conn = duckdb.connect(str(duckdb_path(org.pk)), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def create(admin: Api, source: Source, **body: Any) -> dict[str, Any]:
    response = admin.post("/api/connections", {"name": "Edgy sync", "source_id": source.pk,
                                               "destination_schema": "edgy", **body})  # fmt: skip
    assert response.status_code == 201, response.content
    return dict(response.json())


def sync(api: Api, connection_id: int) -> dict[str, Any]:
    response = api.post(f"/api/connections/{connection_id}/sync")
    assert response.status_code == 201, response.content
    return dict(api.get(f"/api/connections/{connection_id}/syncs/{response.json()['id']}").json())


# ---- configuration -------------------------------------------------------------------------------


def test_create_with_defaults_then_validation_errors(two_orgs: TwoOrgs, data_dir: Path) -> None:
    admin = two_orgs.as_role("admin")
    source = edgy_source(two_orgs.a, streams=2)
    no_warehouse = admin.post("/api/connections", {"name": "X", "source_id": source.pk, "destination_schema": "x"})
    assert no_warehouse.status_code == 400 and no_warehouse.json()["code"] == "no_warehouse"
    duckdb_warehouse(admin)

    connection = create(admin, source)
    streams = {s["name"]: s for s in connection["streams"]}
    assert set(streams) == {"alpha", "beta"}
    assert streams["alpha"] | {"columns": None} == streams["alpha"] | {
        "selected": True, "sync_mode": "incremental", "destination_mode": "append_dedup", "primary_key": [["id"]],
        "cursor_field": ["updated_at"], "selected_columns": None, "table": "alpha", "columns": None,
    }  # fmt: skip

    def bad(streams: list[dict[str, Any]], **body: Any) -> dict[str, str]:
        payload = {"name": "Other", "source_id": source.pk, "destination_schema": "other", "streams": streams, **body}
        response = admin.post("/api/connections", payload)
        assert response.status_code in (400, 409, 422), response.content
        return dict(response.json()["fields"]) if response.status_code != 422 else {"422": "schema"}

    assert bad([{"name": "nope"}]) == {"streams.0.name": "The source has no stream 'nope'."}
    assert "streams.alpha.destination_mode" in bad([{"name": "alpha", "sync_mode": "incremental",
                                                    "destination_mode": "overwrite"}])  # fmt: skip
    assert "streams.alpha.primary_key" in bad([{"name": "alpha", "primary_key": [["name"]]}])
    assert "streams.alpha.cursor_field" in bad([{"name": "alpha", "sync_mode": "incremental",
                                                "cursor_field": ["name"]}])  # fmt: skip
    assert "streams.alpha.selected_columns" in bad([{"name": "alpha", "selected_columns": ["ghost"]}])
    assert bad([{"name": "alpha", "selected": False}]) == {"streams": "Select at least one stream."}
    assert bad([{"name": "alpha", "sync_mode": "sideways"}]) == {"422": "schema"}
    assert "destination_schema" in bad([], destination_schema="Bad Schema;")
    assert "destination_schema" in bad([], destination_schema="pg_catalog")
    assert bad([{"name": "alpha"}], name="Edgy sync") == {"name": "Already used by another connection."}
    assert Connection.objects.count() == 1

    # Chosen columns always keep the key and cursor; other streams come unselected.
    picked = create(admin, source, name="Picked", destination_schema="picked",
                    streams=[{"name": "beta", "sync_mode": "full_refresh", "destination_mode": "overwrite",
                              "selected_columns": ["name"]}])  # fmt: skip
    beta = next(s for s in picked["streams"] if s["name"] == "beta")
    assert beta["selected_columns"] == ["id", "name"] and beta["cursor_field"] == []
    assert next(s for s in picked["streams"] if s["name"] == "alpha")["selected"] is False


def test_permissions_and_other_orgs(two_orgs: TwoOrgs, data_dir: Path, inline_flows: list[str]) -> None:
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    connection = create(admin, edgy_source(two_orgs.a))
    analyst = two_orgs.as_role("analyst")
    assert analyst.get(f"/api/connections/{connection['id']}").status_code == 200
    assert analyst.put_json(f"/api/connections/{connection['id']}", {"name": "x", "destination_schema": "x"}
                            ).status_code == 403  # fmt: skip
    assert analyst.get(f"/api/connections/{connection['id']}/state").status_code == 403
    assert two_orgs.as_role("member").get("/api/connections").status_code == 403
    assert two_orgs.as_outsider().get(f"/api/connections/{connection['id']}").status_code == 404
    assert two_orgs.as_outsider().post(f"/api/connections/{connection['id']}/sync").status_code == 404


# ---- syncs ---------------------------------------------------------------------------------------


def test_incremental_dedup_sync_saves_state_and_loads_only_new_records(
    two_orgs: TwoOrgs, data_dir: Path, inline_flows: list[str]
) -> None:
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    source = edgy_source(two_orgs.a, records=50, keys=20, state_every=7)
    connection = create(admin, source)

    first = sync(admin, connection["id"])
    assert first["status"] == "succeeded", first["error"]
    assert first["result"]["records"] == 50
    assert first["result"]["streams"]["alpha"] | {"bytes": 0} == {
        "status": "complete", "records": 50, "bytes": 0, "estimate": None,
    }  # fmt: skip
    assert rows(two_orgs.a, "SELECT count(*), max(updated_at), count(DISTINCT id) FROM edgy.alpha") == [(20, 50, 20)]
    state = admin.get(f"/api/connections/{connection['id']}/state").json()
    assert state["kind"] == "STREAM" and state["streams"] == {"alpha": {"updated_at": 50}}

    set_config(source, records=80)
    second = sync(admin, connection["id"])
    assert second["status"] == "succeeded", second["error"]
    assert second["result"]["records"] == 30  # only what came after the saved cursor
    # Each key holds its latest version: ids 1..20, updated_at 61..80.
    assert rows(two_orgs.a, "SELECT min(updated_at), max(updated_at), count(*) FROM edgy.alpha") == [(61, 80, 20)]
    history = admin.get(f"/api/connections/{connection['id']}/syncs").json()
    assert [h["status"] for h in history] == ["succeeded", "succeeded"]
    shown = admin.get(f"/api/connections/{connection['id']}").json()
    assert shown["last_sync"]["id"] == second["id"] and shown["running"] is None
    assert any("Syncing 1 stream(s) into duckdb:edgy" in line for line in inline_flows)


def test_full_refresh_overwrite_replaces_and_zero_records_still_make_the_table(
    two_orgs: TwoOrgs, data_dir: Path, inline_flows: list[str]
) -> None:
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    source = edgy_source(two_orgs.a, records=0)
    connection = create(admin, source, streams=[{"name": "alpha", "sync_mode": "full_refresh",
                                                 "destination_mode": "overwrite"}])  # fmt: skip
    assert sync(admin, connection["id"])["status"] == "succeeded"
    assert rows(two_orgs.a, "SELECT count(*) FROM edgy.alpha") == [(0,)]
    set_config(source, records=12)
    assert sync(admin, connection["id"])["status"] == "succeeded"
    set_config(source, records=5)
    assert sync(admin, connection["id"])["status"] == "succeeded"
    assert rows(two_orgs.a, "SELECT count(*), max(id) FROM edgy.alpha") == [(5, 5)]
    assert rows(two_orgs.a, "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '_dalgo_tmp%'") == [
        (0,)
    ]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"trace_error": "The API key was revoked"}, "The connector failed: The API key was revoked"),
        ({"crash": True}, "edgy crashed on purpose"),
        ({"bad_line": True}, "a line that is not a protocol message"),
    ],
)
def test_connector_failures_fail_the_run_plainly(
    two_orgs: TwoOrgs, data_dir: Path, inline_flows: list[str], config: dict[str, Any], expected: str
) -> None:
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    connection = create(admin, edgy_source(two_orgs.a, **config))
    run = sync(admin, connection["id"])
    assert run["status"] == "failed"
    assert expected.lower() in run["error"].lower(), run["error"]
    assert API_KEY not in run["error"] and all(API_KEY not in line for line in inline_flows)
    assert Connection.objects.get().sync_run is None  # the lock went with the run


def test_non_utf8_and_a_10_mb_record_load(two_orgs: TwoOrgs, data_dir: Path, inline_flows: list[str]) -> None:
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    source = edgy_source(two_orgs.a, records=3, non_utf8=True, huge_record_mb=10)
    streams = [{"name": "alpha", "sync_mode": "full_refresh", "destination_mode": "append"}]
    connection = create(admin, source, streams=streams)
    run = sync(admin, connection["id"])
    assert run["status"] == "succeeded", run["error"]
    found = dict(rows(two_orgs.a, "SELECT id, length(name) FROM edgy.alpha WHERE id IN (-1, 0)"))
    assert found[-1] == 10 * 1024 * 1024 and found[0] > 0


def test_control_message_persists_the_new_config(two_orgs: TwoOrgs, data_dir: Path, inline_flows: list[str]) -> None:
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    source = edgy_source(two_orgs.a, control_config=True)
    connection = create(admin, source)
    assert sync(admin, connection["id"])["status"] == "succeeded"
    source.refresh_from_db()
    assert source.secrets == {"/api_key": f"{API_KEY}-refreshed"}
    assert source.config["control_config"] is True and "api_key" not in source.config


def test_a_second_sync_is_refused_while_one_runs_and_a_dead_worker_frees_the_lock(
    two_orgs: TwoOrgs, data_dir: Path, settings: Any
) -> None:
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    connection = create(admin, edgy_source(two_orgs.a))
    # A sync that a worker took and then stopped beating (killed): its lock holds until the timeout.
    holder = Run.objects.create(org=two_orgs.a, kind="connection-sync", status=RunStatus.RUNNING,
                                params={"connection_id": connection["id"]})  # fmt: skip
    from django.utils import timezone

    Run.objects.filter(pk=holder.pk).update(heartbeat_at=timezone.now())
    Connection.objects.filter(pk=connection["id"]).update(sync_run=holder)
    refused = admin.post(f"/api/connections/{connection['id']}/sync")
    assert refused.status_code == 409
    assert refused.json()["code"] == "sync_running" and refused.json()["related"] == {"run_id": str(holder.id)}
    assert admin.post(f"/api/connections/{connection['id']}/clear", {"streams": None}).status_code == 409
    assert Run.objects.count() == 1

    settings.DALGO_RUN_HEARTBEAT_TIMEOUT = 0
    # The orchestrator is unreachable in unit tests: the new sync's trigger fails (503) but the lock
    # of the dead worker's run was released and its run failed with the reason.
    started = admin.post(f"/api/connections/{connection['id']}/sync")
    assert started.status_code == 503, started.content
    holder.refresh_from_db()
    assert holder.status == "failed" and "stopped responding" in holder.error
    assert Connection.objects.get().sync_run is None


@pytest.mark.django_db(transaction=True)  # the heartbeat thread must see the run
def test_cancel_stops_the_connector(
    two_orgs: TwoOrgs, data_dir: Path, inline_flows: list[str], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DALGO_SYNC_TIMEOUT = 60
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    connection_id = create(admin, edgy_source(two_orgs.a, sleep_forever=True))["id"]
    import threading

    from dalgo.ingestion import sync as sync_module
    from dalgo.runs.services import run_transition

    monkeypatch.setattr(sync_module, "HEARTBEAT_EVERY_SECONDS", 0.2)

    def cancel_soon() -> None:
        import time

        from django.db import connection as db

        deadline = time.monotonic() + 30  # then the sync's own 60 s limit below ends the test
        while time.monotonic() < deadline:
            run = Run.objects.filter(kind="connection-sync").first()
            if run is not None and run.status == RunStatus.RUNNING:
                run_transition(run_id=run.id, to=RunStatus.CANCELLING)
                break
            time.sleep(0.1)
        db.close()

    canceller = threading.Thread(target=cancel_soon)
    canceller.start()
    try:
        run = sync(admin, connection_id)
    finally:
        canceller.join()
    assert run["status"] == "cancelled"
    assert Connection.objects.get().sync_run is None


# ---- clear and schema changes --------------------------------------------------------------------


def test_clear_chosen_streams_drops_their_tables_and_state(
    two_orgs: TwoOrgs, data_dir: Path, inline_flows: list[str]
) -> None:
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    connection = create(admin, edgy_source(two_orgs.a, streams=2, state_kind="GLOBAL"))
    assert sync(admin, connection["id"])["status"] == "succeeded"
    assert admin.get(f"/api/connections/{connection['id']}/state").json()["streams"] == {
        "alpha": {"updated_at": 10}, "beta": {"updated_at": 10},
    }  # fmt: skip
    bad = admin.post(f"/api/connections/{connection['id']}/clear", {"streams": ["gamma"]})
    assert bad.status_code == 400 and "streams" in bad.json()["fields"]
    cleared = admin.post(f"/api/connections/{connection['id']}/clear", {"streams": ["beta"]})
    assert cleared.status_code == 200, cleared.content
    assert admin.get(f"/api/connections/{connection['id']}/state").json()["streams"] == {"alpha": {"updated_at": 10}}
    tables = {r[0] for r in rows(two_orgs.a, "SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'edgy'")}  # fmt: skip
    assert tables == {"alpha"}
    run = sync(admin, connection["id"])
    assert run["result"]["streams"]["beta"]["records"] == 10 and run["result"]["streams"]["alpha"]["records"] == 0
    assert rows(two_orgs.a, "SELECT count(*) FROM edgy.beta") == [(10,)]


def test_schema_changes_apply_or_wait_for_approval(two_orgs: TwoOrgs, data_dir: Path, inline_flows: list[str]) -> None:
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    source = edgy_source(two_orgs.a, streams=2)
    connection = create(admin, source)
    assert sync(admin, connection["id"])["status"] == "succeeded"

    # A new column is not breaking: it is adopted and loaded by the next sync.
    set_config(source, extra_column=True, records=12)
    run = sync(admin, connection["id"])
    assert run["status"] == "succeeded", run["error"]
    shown = admin.get(f"/api/connections/{connection['id']}").json()
    assert shown["schema_change"]["streams_changed"]["alpha"]["columns_added"] == ["extra"]
    assert shown["schema_change_needs_approval"] is False
    assert rows(two_orgs.a, "SELECT extra FROM edgy.alpha WHERE id = 12") == [("x12",)]

    # A selected stream disappearing is breaking: syncs wait for an admin.
    set_config(source, streams=1)
    checked = admin.post(f"/api/connections/{connection['id']}/schema/refresh").json()
    assert checked["schema_change_needs_approval"] is True
    assert checked["schema_change"]["breaking"] == ["Stream 'beta' is no longer offered by the source."]
    waiting = admin.post(f"/api/connections/{connection['id']}/sync")
    assert waiting.status_code == 409 and waiting.json()["code"] == "schema_change_pending"
    assert two_orgs.as_role("analyst").post(f"/api/connections/{connection['id']}/schema/approve").status_code == 403
    approved = admin.post(f"/api/connections/{connection['id']}/schema/approve")
    assert approved.status_code == 200, approved.content
    assert [s["name"] for s in approved.json()["streams"]] == ["alpha"]
    assert sync(admin, connection["id"])["status"] == "succeeded"


def test_source_delete_names_the_connections_using_it(two_orgs: TwoOrgs, data_dir: Path) -> None:
    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    source = edgy_source(two_orgs.a)
    connection = create(admin, source)
    assert admin.get(f"/api/sources/{source.pk}").json()["connections"] == [{"id": connection["id"],
                                                                            "name": "Edgy sync"}]  # fmt: skip
    refused = admin.delete(f"/api/sources/{source.pk}")
    assert refused.status_code == 409 and "Edgy sync" in refused.json()["detail"]
    assert admin.delete(f"/api/connections/{connection['id']}").status_code == 204
    assert admin.delete(f"/api/sources/{source.pk}").status_code == 204


def test_the_daily_job_records_schema_changes(two_orgs: TwoOrgs, data_dir: Path) -> None:
    from dalgo.ingestion.tasks import connections_schema_check_daily

    admin = two_orgs.as_role("admin")
    duckdb_warehouse(admin)
    source = edgy_source(two_orgs.a)
    connection = create(admin, source)
    assert connections_schema_check_daily() == 0
    set_config(source, extra_column=True)
    assert connections_schema_check_daily() == 1
    shown = admin.get(f"/api/connections/{connection['id']}").json()
    assert shown["schema_change"]["streams_changed"] == {
        "alpha": {"columns_added": ["extra"], "columns_removed": [], "types_changed": []}
    }
    alpha = next(s for s in shown["streams"] if s["name"] == "alpha")
    assert "extra" in {c["name"] for c in alpha["columns"]}


def test_custom_connector_source_through_the_api(two_orgs: TwoOrgs, data_dir: Path, settings: Any) -> None:
    admin = two_orgs.as_role("admin")
    refused = admin.get(f"/api/connectors/custom/spec?package={EDGY_PATH}")
    assert refused.status_code == 403 and refused.json()["code"] == "custom_disabled"
    settings.DALGO_CUSTOM_CONNECTORS = True
    assert admin.get("/api/connectors/custom/spec").json()["fields"] == {
        "package": "Give the pip requirement (e.g. airbyte-source-foo==1.2.3) or a local path."
    }
    spec = admin.get(f"/api/connectors/custom/spec?package={EDGY_PATH}")
    assert spec.status_code == 200, spec.content
    assert spec.json()["secret_paths"] == [["api_key"], ["auth", "token"]]
    body = {"connector": "custom", "package": str(EDGY_PATH), "name": "Mine", "config": {"api_key": "k"}}
    short = admin.post("/api/sources", body)
    assert short.status_code == 400 and "config.api_key" in short.json()["fields"]
    created = admin.post("/api/sources", {**body, "config": {"api_key": API_KEY, "records": 3}})
    assert created.status_code == 201, created.content
    assert created.json()["connector_name"] == f"Custom: {EDGY_PATH}"
    assert created.json()["config"]["api_key"] == "********"
    assert admin.post(f"/api/sources/{created.json()['id']}/check").json()["ok"] is True
