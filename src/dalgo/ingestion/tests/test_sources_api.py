"""Sources through the API with a real connector installed from PyPI (airbyte-source-faker): the
spec form, config validated against it before any process starts, the live check, masking."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from dalgo.core.models import AuditEvent
from dalgo.ingestion.models import Source
from tests.connectors.support import EDGY_PATH, EDGY_VERSION
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


# ---- a custom source changing its package ----------------------------------------------------------

EDGY_KEY = "edgy-key-0001"
TINY_CONNECTOR = """
import json, sys

KEY = "<edgy key>"
SPEC = {"connectionSpecification": {
    "type": "object", "required": ["api_key", "region"],
    "properties": {"api_key": {"type": "string", "airbyte_secret": True},
                   "region": {"type": "string", "enum": ["eu", "us"]}},
}}


def main():
    command = sys.argv[1]
    if command == "spec":
        print(json.dumps({"type": "SPEC", "spec": SPEC}))
        return
    config = json.load(open(sys.argv[sys.argv.index("--config") + 1]))
    if command == "check":  # succeeds only with the key the edgy source was saved with: proves it was kept
        ok = config.get("api_key") == KEY
        status = {"status": "SUCCEEDED"} if ok else {"status": "FAILED", "message": "tiny refuses this key"}
        print(json.dumps({"type": "CONNECTION_STATUS", "connectionStatus": status}))
    elif command == "discover":
        stream = {"name": "tiny_" + config["region"], "supported_sync_modes": ["full_refresh"],
                  "json_schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}
        print(json.dumps({"type": "CATALOG", "catalog": {"streams": [stream]}}))
""".replace("<edgy key>", EDGY_KEY)


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second protocol-speaking connector (airbyte-source-tiny 0.2.0) with a spec unlike edgy's."""
    root = tmp_path_factory.mktemp("tiny-connector")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "airbyte-source-tiny"\nversion = "0.2.0"\ndependencies = []\n'
        '[project.scripts]\nsource-tiny = "source_tiny:main"\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["source_tiny"]\n'
    )
    (root / "source_tiny").mkdir()
    (root / "source_tiny" / "__init__.py").write_text(TINY_CONNECTOR)
    return root


@pytest.fixture
def edgy_source(two_orgs: TwoOrgs, settings: Any) -> dict[str, Any]:
    """A custom source (the edgy test connector from its local path) created through the API, with its
    streams discovered (cached on the source)."""
    settings.DALGO_CUSTOM_CONNECTORS = True
    admin = two_orgs.as_role("admin")
    body = {"connector": "custom", "package": str(EDGY_PATH), "name": "Mine", "config": {"api_key": EDGY_KEY}}
    created = admin.post("/api/sources", body)
    assert created.status_code == 201, created.content
    streams = admin.get(f"/api/sources/{created.json()['id']}/streams")
    assert [s["name"] for s in streams.json()["streams"]] == ["alpha"]
    return dict(created.json())


def _unchanged(source: dict[str, Any]) -> Source:
    """The stored source still has the edgy package, version, config, key and discovered streams."""
    saved = Source.objects.get(pk=source["id"])
    assert (saved.package, saved.version, saved.config) == (str(EDGY_PATH), source["version"], {})
    assert saved.secrets == {"/api_key": EDGY_KEY}
    assert saved.discovered_at is not None and [s["name"] for s in saved.streams] == ["alpha"]
    return saved


def test_custom_source_changes_package(two_orgs: TwoOrgs, edgy_source: dict[str, Any], tiny_path: Path) -> None:
    admin = two_orgs.as_role("admin")
    url = f"/api/sources/{edgy_source['id']}"
    assert edgy_source["version"] == EDGY_VERSION  # what pip installed from the local path

    # The same package (as the edit form sends it) is no change: nothing installed, streams kept.
    same = admin.put_json(url, {"name": "Mine", "config": {"api_key": "********"}, "package": f" {EDGY_PATH} "})
    assert same.status_code == 200, same.content
    assert (same.json()["package"], same.json()["version"]) == (str(EDGY_PATH), edgy_source["version"])
    assert Source.objects.get(pk=edgy_source["id"]).discovered_at is not None

    changed = admin.put_json(url, {"name": "Tiny", "config": {"api_key": "********", "region": "us"},
                                   "package": str(tiny_path)})  # fmt: skip
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["package"] == str(tiny_path)
    assert body["version"] == "0.2.0"  # tiny's, as pip installed it
    assert body["connector_name"] == f"Custom: {tiny_path}"
    assert body["config"] == {"api_key": "********", "region": "us"}
    assert body["last_check_ok"] is True
    saved = Source.objects.get(pk=edgy_source["id"])
    assert saved.secrets == {"/api_key": EDGY_KEY}  # the masked key was kept (tiny's check needs it)
    assert (saved.streams, saved.discovered_at) == ([], None)  # edgy's streams are forgotten
    assert admin.get(url).json()["version"] == body["version"]

    streams = admin.get(f"{url}/streams").json()
    assert [s["name"] for s in streams["streams"]] == ["tiny_us"]  # discovered with the new package
    assert admin.post(f"{url}/check").json()["ok"] is True

    event = AuditEvent.objects.filter(action="source.update").order_by("-id").first()
    assert event is not None
    assert event.before == {"package": str(EDGY_PATH), "version": edgy_source["version"]}
    assert event.after["package"] == str(tiny_path) and event.after["version"] == body["version"]


def test_package_change_validates_the_config_against_the_new_spec(
    two_orgs: TwoOrgs, edgy_source: dict[str, Any], tiny_path: Path
) -> None:
    admin = two_orgs.as_role("admin")
    url = f"/api/sources/{edgy_source['id']}"
    # Valid for edgy, but tiny requires a region.
    missing = admin.put_json(url, {"name": "Mine", "config": {"api_key": "********"}, "package": str(tiny_path)})
    assert missing.status_code == 400, missing.content
    assert "config.region" in missing.json()["fields"]
    wrong = admin.put_json(url, {"name": "Mine", "config": {"api_key": "********", "region": "mars"},
                                 "package": str(tiny_path)})  # fmt: skip
    assert wrong.status_code == 400 and "config.region" in wrong.json()["fields"]
    # Valid, but the new connector's check refuses a new key: nothing is saved either.
    refused = admin.put_json(url, {"name": "Mine", "config": {"api_key": "other-key", "region": "eu"},
                                   "package": str(tiny_path)})  # fmt: skip
    assert refused.status_code == 400 and refused.json()["code"] == "check_failed"
    assert "tiny refuses this key" in refused.json()["detail"]
    _unchanged(edgy_source)


def test_failed_install_and_bad_packages_leave_the_source_unchanged(
    two_orgs: TwoOrgs, edgy_source: dict[str, Any], tmp_path: Path, settings: Any
) -> None:
    admin = two_orgs.as_role("admin")
    url = f"/api/sources/{edgy_source['id']}"
    events = AuditEvent.objects.count()
    not_a_project = tmp_path / "not-a-connector"
    not_a_project.mkdir()
    (not_a_project / "README.txt").write_text("no pyproject here")

    def put(package: str) -> Any:
        return admin.put_json(url, {"name": "Renamed", "config": {"api_key": "********"}, "package": package})

    failed = put(str(not_a_project))
    assert failed.status_code == 400, failed.content
    error = failed.json()
    assert error["code"] == "connector_install_failed"
    assert error["fields"]["package"].startswith("Could not install") and str(not_a_project) in error["detail"]

    option = put("--index-url=https://example.invalid/simple")
    assert option.status_code == 400
    assert option.json()["fields"] == {"package": "A custom connector must be a requirement or a path, not an option."}
    empty = put("   ")
    assert empty.status_code == 400 and set(empty.json()["fields"]) == {"package"}
    too_long = put("airbyte-source-" + "x" * 200)
    assert too_long.status_code == 400 and "longer than 120" in too_long.json()["fields"]["package"]

    settings.DALGO_CUSTOM_CONNECTORS = False
    disabled = put(str(not_a_project))
    assert disabled.status_code == 403 and disabled.json()["code"] == "custom_disabled"

    saved = _unchanged(edgy_source)
    assert saved.name == "Mine"
    assert AuditEvent.objects.count() == events


def test_a_catalogue_source_refuses_a_package(two_orgs: TwoOrgs) -> None:
    source = Source(org=two_orgs.a, name="People", connector_slug="faker", package="airbyte-source-faker",
                    version="6.2.38", config={"count": 5})  # fmt: skip
    source.save()
    admin = two_orgs.as_role("admin")
    for package in ("airbyte-source-faker==7.0.0", "", "airbyte-source-stripe"):
        refused = admin.put_json(f"/api/sources/{source.pk}", {"name": "People", "config": {"count": 5},
                                                               "package": package})  # fmt: skip
        assert refused.status_code == 400, refused.content
        reason = refused.json()["fields"]["package"]
        assert reason.startswith("Only a custom connector's package can be changed") and "'faker'" in reason
    source.refresh_from_db()
    assert (source.package, source.version) == ("airbyte-source-faker", "6.2.38")


def test_only_source_editors_change_the_package(
    two_orgs: TwoOrgs, edgy_source: dict[str, Any], tiny_path: Path
) -> None:
    url = f"/api/sources/{edgy_source['id']}"
    body = {"name": "Tiny", "config": {"api_key": "********", "region": "eu"}, "package": str(tiny_path)}
    for role in ("member", "analyst"):
        denied = two_orgs.as_role(role).put_json(url, body)
        assert denied.status_code == 403, (role, denied.content)
    assert two_orgs.as_outsider().put_json(url, body).status_code == 404
    _unchanged(edgy_source)
    allowed = two_orgs.as_role("super-admin").put_json(url, body)
    assert allowed.status_code == 200, allowed.content
    assert allowed.json()["package"] == str(tiny_path)


def test_a_custom_requirement_reports_the_version_pip_installed(two_orgs: TwoOrgs, settings: Any) -> None:
    """A custom connector given as a pip requirement shows the installed version, not "custom"."""
    settings.DALGO_CUSTOM_CONNECTORS = True
    admin = two_orgs.as_role("admin")
    requirement = f"airbyte-source-edgy @ {EDGY_PATH.as_uri()}"
    spec = admin.get(f"/api/connectors/custom/spec?package={quote(requirement)}")
    assert spec.status_code == 200, spec.content
    assert (spec.json()["package"], spec.json()["version"]) == (requirement, EDGY_VERSION)
    body = {"connector": "custom", "package": requirement, "name": "Required", "config": {"api_key": EDGY_KEY}}
    created = admin.post("/api/sources", body)
    assert created.status_code == 201, created.content
    assert created.json()["version"] == EDGY_VERSION
    assert Source.objects.get(pk=created.json()["id"]).version == EDGY_VERSION
    listed = {s["id"]: s["version"] for s in admin.get("/api/sources").json()}
    assert listed[created.json()["id"]] == EDGY_VERSION


def test_saving_a_custom_source_records_its_installed_version(two_orgs: TwoOrgs, edgy_source: dict[str, Any]) -> None:
    """A source saved while custom versions read "custom" gets the installed version on its next save."""
    Source.objects.filter(pk=edgy_source["id"]).update(version="custom")
    admin = two_orgs.as_role("admin")
    saved = admin.put_json(f"/api/sources/{edgy_source['id']}", {"name": "Mine", "config": {"api_key": "********"}})
    assert saved.status_code == 200, saved.content
    assert saved.json()["version"] == EDGY_VERSION
    source = Source.objects.get(pk=edgy_source["id"])
    assert source.version == EDGY_VERSION and source.discovered_at is not None  # same package: streams kept
