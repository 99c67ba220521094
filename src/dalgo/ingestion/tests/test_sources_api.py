"""Sources through the API with a real connector installed from PyPI (airbyte-source-faker): the
spec form, config validated against it before any process starts, the live check, masking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dalgo.core.models import AuditEvent
from dalgo.ingestion.models import Source
from tests.fixtures import TwoOrgs

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def _connectors_in_a_shared_dir(pypi_data_dir: Path) -> Any:
    """Install each connector once per session (the settings fixture is per test)."""
    from django.conf import settings

    previous = settings.DALGO_DATA_DIR
    settings.DALGO_DATA_DIR = pypi_data_dir
    yield
    settings.DALGO_DATA_DIR = previous


def test_spec_create_list_masked_check_update_delete(two_orgs: TwoOrgs) -> None:
    admin = two_orgs.as_role("admin")
    spec = admin.get("/api/connectors/faker/spec")
    assert spec.status_code == 200, spec.content
    body = spec.json()
    assert body["package"] == "airbyte-source-faker"
    assert "count" in body["spec"]["properties"]

    bad = admin.post("/api/sources", {"connector": "faker", "name": "Fake people", "config": {"count": "many"}})
    assert bad.status_code == 400
    assert "config.count" in bad.json()["fields"]
    assert not Source.objects.exists()

    created = admin.post("/api/sources", {"connector": "faker", "name": "Fake people", "config": {"count": 50}})
    assert created.status_code == 201, created.content
    source = created.json()
    assert source["last_check_ok"] is True
    assert source["connector_name"] == "Faker"

    analyst = two_orgs.as_role("analyst")
    assert [s["name"] for s in analyst.get("/api/sources").json()] == ["Fake people"]
    checked = analyst.post(f"/api/sources/{source['id']}/check").json()
    assert checked["ok"] is True
    assert analyst.put_json(f"/api/sources/{source['id']}", {"name": "X", "config": {}}).status_code == 403

    updated = admin.put_json(f"/api/sources/{source['id']}", {"name": "Fake households", "config": {"count": 80}})
    assert updated.status_code == 200, updated.content
    assert updated.json()["config"]["count"] == 80
    duplicate = admin.post("/api/sources", {"connector": "faker", "name": "Fake households", "config": {}})
    assert duplicate.status_code == 409
    assert admin.delete(f"/api/sources/{source['id']}").status_code == 204
    assert not Source.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="source.").count() == 3


def test_unknown_connector_and_precheck(two_orgs: TwoOrgs) -> None:
    admin = two_orgs.as_role("admin")
    assert admin.get("/api/connectors/not-a-connector/spec").json()["code"] == "connector_not_found"
    check = admin.post("/api/sources/check", {"connector": "faker", "config": {"count": 5}}).json()
    assert check == {"ok": True, "message": check["message"]}
    invalid = admin.post("/api/sources/check", {"connector": "faker", "config": {"count": -3, "seed": "x"}})
    assert invalid.status_code == 400
    assert {"config.seed"} <= set(invalid.json()["fields"])


def test_streams_are_discovered_and_cached(two_orgs: TwoOrgs) -> None:
    admin = two_orgs.as_role("admin")
    created = admin.post("/api/sources", {"connector": "faker", "name": "People", "config": {"count": 10}})
    assert created.status_code == 201, created.content
    source_id = created.json()["id"]
    analyst = two_orgs.as_role("analyst")
    first = analyst.get(f"/api/sources/{source_id}/streams").json()
    assert first["discovered_at"] is not None
    streams = {s["name"]: s for s in first["streams"]}
    assert set(streams) >= {"users", "products", "purchases"}
    users = streams["users"]
    assert "incremental" in users["supported_sync_modes"]
    assert users["source_defined_primary_key"] == [["id"]]
    columns = {c["name"]: c["type"] for c in users["columns"]}
    assert columns["id"] == "integer"
    assert columns["updated_at"].startswith("string (date-time")
    again = analyst.get(f"/api/sources/{source_id}/streams").json()
    assert again["discovered_at"] == first["discovered_at"]  # cached: no second discover
    refreshed = analyst.get(f"/api/sources/{source_id}/streams?refresh=true").json()
    assert refreshed["discovered_at"] > first["discovered_at"]
