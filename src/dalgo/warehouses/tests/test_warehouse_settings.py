"""Setting up the org's warehouse through the API: live tests before saving, each failure named,
secrets encrypted at rest and never sent back, edit keeping secrets, delete with confirmation."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from dalgo.core.models import AuditEvent
from dalgo.warehouses.models import Warehouse
from dalgo.warehouses.types import duckdb_path
from tests.fixtures import TwoOrgs

pytestmark = pytest.mark.django_db


def test_duckdb_is_the_zero_setup_default(two_orgs: TwoOrgs) -> None:
    admin = two_orgs.as_role("admin")
    assert admin.get("/api/warehouse").json()["code"] == "no_warehouse"
    types = admin.get("/api/warehouse/types").json()
    assert [t["type"] for t in types] == ["duckdb", "postgres", "bigquery"]
    assert types[1]["secret_fields"] == ["password"]
    saved = admin.request("PUT", "/api/warehouse", {"type": "duckdb", "name": "Main", "config": {}})
    assert saved.status_code == 200, saved.content
    assert saved.json()["last_test_ok"] is True
    assert duckdb_path(two_orgs.a.pk).exists()
    assert admin.get("/api/warehouse").json()["name"] == "Main"
    check = admin.post("/api/warehouse/check").json()
    assert check["ok"] is True
    assert "DuckDB file ready" in check["message"]


def test_postgres_password_is_encrypted_masked_and_kept_on_edit(
    two_orgs: TwoOrgs, pg_password_server: dict[str, Any]
) -> None:
    admin = two_orgs.as_role("admin")
    saved = admin.request("PUT", "/api/warehouse", {"type": "postgres", "name": "PG", "config": pg_password_server})
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["config"]["password"] == "********"
    assert body["secrets_set"] == ["password"]
    assert "s3cret-Pa55" not in str(admin.get("/api/warehouse").content)
    with connection.cursor() as cursor:
        cursor.execute("SELECT config::text, secrets FROM warehouses_warehouse")
        config_text, secrets_text = cursor.fetchone()
    assert "s3cret" not in config_text and "s3cret" not in secrets_text  # encrypted at rest

    renamed = admin.request(
        "PUT", "/api/warehouse", {"type": "postgres", "name": "Programme data",
                                  "config": {**pg_password_server, "password": "********"}}
    )  # fmt: skip
    assert renamed.status_code == 200, renamed.content
    assert Warehouse.objects.get().secrets == {"password": "s3cret-Pa55"}
    event = AuditEvent.objects.filter(action="warehouse.save").first()
    assert event is not None and "s3cret" not in str(event.before) + str(event.after)


def test_wrong_password_is_named_and_nothing_is_saved(two_orgs: TwoOrgs, pg_password_server: dict[str, Any]) -> None:
    admin = two_orgs.as_role("admin")
    wrong = {**pg_password_server, "password": "not-it"}
    tested = admin.post("/api/warehouse/test", {"type": "postgres", "name": "PG", "config": wrong}).json()
    assert tested["ok"] is False
    assert tested["code"] == "warehouse_auth_failed"
    assert "not-it" not in tested["message"]
    refused = admin.request("PUT", "/api/warehouse", {"type": "postgres", "name": "PG", "config": wrong})
    assert refused.status_code == 400
    assert refused.json()["fields"] == {"config.password": "Refused by the server."}
    assert not Warehouse.objects.exists()


def test_missing_database_and_missing_privileges(two_orgs: TwoOrgs, pg_warehouse: dict[str, Any]) -> None:
    import psycopg

    admin = two_orgs.as_role("admin")
    missing = admin.post(
        "/api/warehouse/test", {"type": "postgres", "name": "PG", "config": {**pg_warehouse, "database": "nope_db"}}
    ).json()
    assert (missing["ok"], missing["code"]) == (False, "warehouse_missing")
    assert "nope_db" in missing["message"]

    role = f"dalgo_noconnect_{two_orgs.a.pk}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"REVOKE CONNECT ON DATABASE {pg_warehouse['database']} FROM PUBLIC")
    try:
        denied = admin.post(
            "/api/warehouse/test", {"type": "postgres", "name": "PG", "config": {**pg_warehouse, "username": role}}
        ).json()
        assert (denied["ok"], denied["code"]) == (False, "warehouse_privileges")
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f"GRANT CONNECT ON DATABASE {pg_warehouse['database']} TO PUBLIC")
            conn.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers: a host that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for s in held:
        s.close()
    server.close()


def test_unreachable_host_fails_within_five_seconds(two_orgs: TwoOrgs, silent_port: int) -> None:
    admin = two_orgs.as_role("admin")
    config = {"host": "127.0.0.1", "port": silent_port, "database": "x", "username": "x", "sslmode": "disable"}
    started = time.monotonic()
    tested = admin.post("/api/warehouse/test", {"type": "postgres", "name": "PG", "config": config}).json()
    elapsed = time.monotonic() - started
    assert (tested["ok"], tested["code"]) == (False, "warehouse_unreachable")
    assert f"127.0.0.1:{silent_port}" in tested["message"]
    assert elapsed < 8  # the 5 s connect timeout, plus a margin for a busy machine


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "postgres", "name": "PG", "config": {"host": "h", "database": "d"}}, "config.username"),
        ({"type": "postgres", "name": "PG", "config": {"host": "h", "database": "d", "username": "u", "port": 0}},
         "config.port"),
        ({"type": "postgres", "name": "PG", "config": {"host": "h", "database": "d", "username": "u",
                                                       "sslmode": "sometimes"}}, "config.sslmode"),
        ({"type": "oracle", "name": "X", "config": {}}, "type"),
        ({"type": "duckdb", "name": "  ", "config": {}}, "name"),
        ({"type": "bigquery", "name": "BQ", "config": {"project": "p", "location": "US",
                                                       "service_account_json": "{not json"}},
         "config.service_account_json"),
    ],
)  # fmt: skip
def test_bad_settings_name_the_field(two_orgs: TwoOrgs, body: dict[str, Any], field: str) -> None:
    response = two_orgs.as_role("admin").request("PUT", "/api/warehouse", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert not Warehouse.objects.exists()


def test_delete_needs_the_name_and_keeps_the_duckdb_file_aside(two_orgs: TwoOrgs) -> None:
    admin = two_orgs.as_role("admin")
    admin.request("PUT", "/api/warehouse", {"type": "duckdb", "name": "Main", "config": {}})
    assert admin.get("/api/warehouse/dependents").json()["items"] == []
    refused = admin.delete("/api/warehouse?confirm=main")
    assert refused.status_code == 400
    assert "confirm" in refused.json()["fields"]
    assert Warehouse.objects.exists()
    assert admin.delete("/api/warehouse?confirm=Main").status_code == 204
    assert not Warehouse.objects.exists()
    path = duckdb_path(two_orgs.a.pk)
    assert not path.exists()
    assert list(path.parent.glob(f"{path.stem}.deleted-*"))


def test_analysts_see_and_check_but_do_not_change(two_orgs: TwoOrgs) -> None:
    two_orgs.as_role("admin").request("PUT", "/api/warehouse", {"type": "duckdb", "name": "Main", "config": {}})
    analyst = two_orgs.as_role("analyst")
    assert analyst.get("/api/warehouse").status_code == 200
    assert analyst.post("/api/warehouse/check").json()["ok"] is True
    assert analyst.request("PUT", "/api/warehouse", {"type": "duckdb", "name": "X", "config": {}}).status_code == 403
    assert two_orgs.as_role("member").get("/api/warehouse").status_code == 403


def test_keys_rotate_and_old_secrets_still_decrypt(two_orgs: TwoOrgs, settings: Any,
                                                    pg_password_server: dict[str, Any]) -> None:  # fmt: skip
    from cryptography.fernet import Fernet

    from dalgo.core.crypto import secrets_rotate_all

    admin = two_orgs.as_role("admin")
    admin.request("PUT", "/api/warehouse", {"type": "postgres", "name": "PG", "config": pg_password_server})
    old_key = settings.DALGO_FERNET_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.DALGO_FERNET_KEYS = [new_key, old_key]
    assert Warehouse.objects.get().secrets["password"] == "s3cret-Pa55"  # decrypts with the old key
    assert secrets_rotate_all() == 1
    settings.DALGO_FERNET_KEYS = [new_key]  # the old key is retired
    assert Warehouse.objects.get().secrets["password"] == "s3cret-Pa55"
    assert admin.post("/api/warehouse/check").json()["ok"] is True
