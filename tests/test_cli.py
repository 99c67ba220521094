"""The operators' `dalgo` command: org and invitation admin, health, and clear errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.test import TestCase

from dalgo.cli import main
from dalgo.orgs.models import Invitation, Membership, Org
from tests.fixtures import Mailbox, make_user

pytestmark = pytest.mark.django_db


def test_org_create_and_user_invite(mailbox: Mailbox) -> None:
    owner = make_user("founder@example.org")
    runner = CliRunner()
    created = runner.invoke(main, ["org", "create", "Jal Seva Trust", "--owner", "FOUNDER@example.org"])
    assert created.exit_code == 0, created.output
    org = Org.objects.get(name="Jal Seva Trust")
    assert Membership.objects.get(org=org, user=owner).role == "super-admin"
    assert org.slug in created.output

    with TestCase.captureOnCommitCallbacks(execute=True):
        invited = runner.invoke(main, ["user", "invite", "--org", org.slug, "field@example.org", "--role", "analyst"])
    assert invited.exit_code == 0, invited.output
    assert Invitation.objects.get(org=org).role == "analyst"
    assert mailbox.last_link("field@example.org", "/invite/")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["org", "create", "X", "--owner", "nobody@example.org"], "No user nobody@example.org"),
        (["org", "create", "X", "--owner", "not-an-email"], "Enter a valid email address."),
        (["user", "invite", "--org", "no-such-org", "a@example.org"], "No organisation with slug 'no-such-org'"),
    ],
)
def test_cli_errors_are_one_line_messages(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_invite_with_a_bad_role_names_the_field() -> None:
    owner = make_user()
    CliRunner().invoke(main, ["org", "create", "Y Org", "--owner", owner.email])
    result = CliRunner().invoke(main, ["user", "invite", "--org", "y-org", "a@example.org", "--role", "boss"])
    assert result.exit_code == 1
    assert "Unknown role 'boss'" in result.output
    assert not Invitation.objects.exists()


def test_health_exits_1_when_a_component_is_down() -> None:
    result = CliRunner().invoke(main, ["health"])
    assert result.exit_code == 1  # no orchestrator in unit tests
    assert "database" in result.output
    assert "orchestrator" in result.output
