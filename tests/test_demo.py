"""The demo org `make demo` seeds: users per role, a DuckDB warehouse, and the survey CSV and Faker
sources synced into it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from django.test import TestCase

from dalgo.accounts.models import User
from dalgo.cli import main
from dalgo.demo import DEMO_ORG_SLUG, DEMO_PASSWORD, demo_ingest, demo_seed
from dalgo.ingestion import connections as connection_services
from dalgo.orgs.models import Membership, Org
from dalgo.runs.models import Run
from dalgo.warehouses.models import Warehouse
from tests.fixtures import Api

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent(settings: Any) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        logins = demo_seed()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert demo_seed() == logins
    assert [role for _, _, role in logins] == ["super-admin", "analyst", "member"]
    org = Org.objects.get(slug=DEMO_ORG_SLUG)
    assert Membership.objects.for_org(org).count() == 3
    assert Warehouse.objects.for_org(org).get().type == "duckdb"


def test_demo_ingest_syncs_the_survey_csv_and_faker_into_explore(
    settings: Any, tmp_path: Path, pypi_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real File and Faker connectors from PyPI; the sync flow's body runs in-process here
    (tests/integration/test_sync.py covers the Prefect leg)."""
    settings.DALGO_DATA_DIR = tmp_path
    (tmp_path / "connectors").symlink_to(pypi_data_dir / "connectors")

    def trigger(*, run: Run, spec: Any) -> Run:
        connection_services.connection_sync_execute(run_id=str(run.id), log=lambda level, text: None)
        return Run.objects.get(pk=run.pk)

    monkeypatch.setattr(connection_services, "run_trigger", trigger)
    with TestCase.captureOnCommitCallbacks(execute=True):
        logins = demo_seed()
    runs = demo_ingest(log=lambda text: None)
    assert [Run.objects.get(pk=r.pk).status for r in runs] == ["succeeded", "succeeded"]
    assert demo_ingest(log=lambda text: None) == []  # idempotent: nothing new to start

    org = Org.objects.get(slug=DEMO_ORG_SLUG)
    analyst = Api()
    assert analyst.post("/api/auth/login", {"email": logins[1][0], "password": DEMO_PASSWORD}).status_code == 200
    analyst.org = org.slug
    survey = analyst.get("/api/explore/tables/survey/household_survey/preview?limit=3&sort=household_id").json()
    assert survey["total_rows"] == 1200
    columns = [c["name"] for c in survey["columns"]]
    ids = columns.index("household_id")
    assert [row[ids] for row in survey["rows"]] == ["HH-00001", "HH-00002", "HH-00003"]
    assert {"district", "village", "survey_date", "monthly_income_inr", "notes", "_airbyte_raw_id"} <= set(columns)
    people = analyst.get("/api/explore/tables/faker/users/preview?limit=1").json()
    assert people["total_rows"] == 500
    member = Api().login(User.objects.get(email=logins[2][0]), org)
    assert member.get("/api/explore/tree").status_code == 403


def test_rotate_keys_command() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        demo_seed()
    result = CliRunner().invoke(main, ["rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 1 record(s)" in result.output
