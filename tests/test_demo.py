"""The demo org `make demo` seeds: users per role, a DuckDB warehouse with a survey to explore."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.test import TestCase

from dalgo.accounts.models import User
from dalgo.cli import main
from dalgo.demo import DEMO_ORG_SLUG, DEMO_PASSWORD, demo_seed
from dalgo.orgs.models import Membership, Org
from tests.fixtures import Api

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_explorable() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        logins = demo_seed()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert demo_seed() == logins
    assert [role for _, _, role in logins] == ["super-admin", "analyst", "member"]
    org = Org.objects.get(slug=DEMO_ORG_SLUG)
    assert Membership.objects.for_org(org).count() == 3

    analyst = Api()
    assert analyst.post("/api/auth/login", {"email": logins[1][0], "password": DEMO_PASSWORD}).status_code == 200
    analyst.org = org.slug
    preview = analyst.get("/api/explore/tables/demo/household_survey/preview?limit=5&sort=household_id").json()
    assert preview["total_rows"] == 1200
    assert [row[0] for row in preview["rows"]] == [1, 2, 3, 4, 5]
    member = Api().login(User.objects.get(email=logins[2][0]), org)
    assert member.get("/api/explore/tree").status_code == 403


def test_rotate_keys_command() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        demo_seed()
    result = CliRunner().invoke(main, ["rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 1 record(s)" in result.output
