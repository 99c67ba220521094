"""Role changes, removal, the last-admin rule, personal API tokens and the audit log."""

from __future__ import annotations

import hashlib

import pytest

from dalgo.orgs.models import ApiToken, Membership
from tests.fixtures import Api, TwoOrgs

pytestmark = pytest.mark.django_db


def test_change_role_and_the_audit_log_shows_before_and_after(two_orgs: TwoOrgs) -> None:
    admin = two_orgs.as_role("admin")
    member_id = two_orgs.users["member"].pk
    changed = admin.patch(f"/api/org/members/{member_id}", {"role": "analyst"})
    assert changed.status_code == 200
    assert changed.json()["role"] == "analyst"
    audit = admin.get("/api/audit?action=member.").json()
    assert audit["total"] == 1
    event = audit["items"][0]
    assert event["actor_email"] == "admin@a.example.org"
    assert (event["before"], event["after"]) == ({"role": "member"}, {"role": "analyst"})
    # org B's audit log does not see it
    assert two_orgs.as_outsider().get("/api/audit").json()["total"] == 0


def test_no_role_escalation(two_orgs: TwoOrgs) -> None:
    admin = two_orgs.as_role("admin")
    up = admin.patch(f"/api/org/members/{two_orgs.users['member'].pk}", {"role": "super-admin"})
    assert up.status_code == 403
    assert up.json()["code"] == "role_escalation"
    demote_boss = admin.patch(f"/api/org/members/{two_orgs.users['super-admin'].pk}", {"role": "member"})
    assert demote_boss.status_code == 403
    remove_boss = admin.delete(f"/api/org/members/{two_orgs.users['super-admin'].pk}")
    assert remove_boss.status_code == 403
    assert Membership.objects.get(user=two_orgs.users["super-admin"], org=two_orgs.a).role == "super-admin"
    assert Membership.objects.get(user=two_orgs.users["member"], org=two_orgs.a).role == "member"
    unknown = admin.patch(f"/api/org/members/{two_orgs.users['member'].pk}", {"role": "owner"})
    assert unknown.status_code == 400
    assert "role" in unknown.json()["fields"]


def test_the_last_admin_can_be_neither_removed_nor_demoted(two_orgs: TwoOrgs) -> None:
    boss = two_orgs.as_role("super-admin")
    assert boss.delete(f"/api/org/members/{two_orgs.users['admin'].pk}").status_code == 204
    me = two_orgs.users["super-admin"].pk
    removed = boss.delete(f"/api/org/members/{me}")
    assert removed.status_code == 409
    assert removed.json()["code"] == "last_admin"
    demoted = boss.patch(f"/api/org/members/{me}", {"role": "analyst"})
    assert demoted.status_code == 409
    assert Membership.objects.get(user_id=me, org=two_orgs.a).role == "super-admin"


def test_removed_member_loses_access_and_tokens(two_orgs: TwoOrgs) -> None:
    analyst = two_orgs.as_role("analyst")
    raw = analyst.post("/api/tokens", {"name": "notebook"}).json()["token"]
    assert two_orgs.as_role("admin").delete(f"/api/org/members/{two_orgs.users['analyst'].pk}").status_code == 204
    assert analyst.get("/api/org").status_code == 404
    assert Api(token=raw).get("/api/org").status_code == 401


def test_api_token_shown_once_hashed_scoped_and_revocable(two_orgs: TwoOrgs) -> None:
    analyst = two_orgs.as_role("analyst")
    created = analyst.post("/api/tokens", {"name": "Power BI refresh"})
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("dalgo_")
    stored = ApiToken.objects.get()
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(analyst.get("/api/tokens").json())

    bearer = Api(token=raw)  # no session, no org header: the token names its org
    org = bearer.get("/api/org").json()
    assert (org["slug"], org["role"]) == (two_orgs.a.slug, "analyst")
    assert bearer.post("/api/org/invitations", {"email": "x@example.org", "role": "member"}).status_code == 403
    assert bearer.get("/api/org", **{"X-Dalgo-Org": two_orgs.b.slug}).status_code == 404
    assert two_orgs.as_outsider().delete(f"/api/tokens/{stored.pk}").status_code == 404

    assert analyst.delete(f"/api/tokens/{stored.pk}").status_code == 204
    revoked = bearer.get("/api/org")
    assert revoked.status_code == 401
    assert revoked.json()["code"] == "invalid_token"
    assert Api(token="dalgo_forged").get("/api/org").status_code == 401


def test_token_needs_a_name(two_orgs: TwoOrgs) -> None:
    response = two_orgs.as_role("member").post("/api/tokens", {"name": "  "})
    assert response.status_code == 400
    assert response.json()["fields"] == {"name": "Name the token after what will use it."}
    assert not ApiToken.objects.exists()


def test_org_switching_is_remembered(two_orgs: TwoOrgs) -> None:
    from tests.fixtures import add_member

    user = two_orgs.users["analyst"]
    add_member(two_orgs.b, user, "member")
    client = Api().login(user, two_orgs.b)
    assert client.get("/api/org").json()["role"] == "member"
    assert client.get("/api/me").json()["last_org"] == two_orgs.b.slug
    client.org = two_orgs.a.slug
    assert client.get("/api/org").json()["role"] == "analyst"
    assert client.get("/api/me").json()["last_org"] == two_orgs.a.slug


def test_create_another_org(two_orgs: TwoOrgs) -> None:
    client = two_orgs.as_role("member")
    created = client.post("/api/orgs", {"name": "Side Project"})
    assert created.status_code == 201
    assert created.json()["role"] == "super-admin"
    assert {o["name"] for o in client.get("/api/me").json()["orgs"]} == {"Org A", "Side Project"}
    assert client.post("/api/orgs", {"name": ""}).json()["fields"] == {"name": "Give the organisation a name."}
