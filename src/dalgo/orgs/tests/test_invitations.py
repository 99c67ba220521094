"""Invitations: by email with a role, accept for new and existing users, resend, revoke, expiry,
single use, and every bad input answered with a clear 4xx that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dalgo.accounts.models import User
from dalgo.orgs.models import Invitation, Membership
from tests.fixtures import PASSWORD, Api, Mailbox, TwoOrgs, make_user

pytestmark = pytest.mark.django_db


def _token(mailbox: Mailbox, email: str) -> str:
    return mailbox.last_link(email, "/invite/").rsplit("/invite/", 1)[1]


def test_invite_a_new_person_who_accepts_and_joins_with_the_role(two_orgs: TwoOrgs, mailbox: Mailbox) -> None:
    admin = two_orgs.as_role("admin")
    created = admin.post("/api/org/invitations", {"email": "New.Person@Example.org", "role": "analyst"})
    assert created.status_code == 201, created.content
    assert created.json()["email"] == "new.person@example.org"
    message = mailbox.to("new.person@example.org")[-1]
    assert "Org A" in message["Subject"]
    token = _token(mailbox, "new.person@example.org")
    assert Invitation.objects.get().token_hash != token  # only a hash is stored

    guest = Api()
    shown = guest.get(f"/api/invitations/{token}").json()
    assert shown["org_name"] == "Org A"
    assert shown["role"] == "analyst"
    assert shown["user_exists"] is False

    missing_password = guest.post(f"/api/invitations/{token}/accept", {"name": "New"})
    assert missing_password.status_code == 400
    assert "password" in missing_password.json()["fields"]
    weak = guest.post(f"/api/invitations/{token}/accept", {"name": "New", "password": "123"})
    assert weak.status_code == 400
    assert not User.objects.filter(email="new.person@example.org").exists()

    accepted = guest.post(f"/api/invitations/{token}/accept", {"name": "New", "password": PASSWORD})
    assert accepted.status_code == 200, accepted.content
    me = accepted.json()
    assert me["joined_org"] == two_orgs.a.slug
    assert [(o["slug"], o["role"]) for o in me["orgs"]] == [(two_orgs.a.slug, "analyst")]
    assert me["user"]["email_verified"] is True
    guest.org = two_orgs.a.slug
    assert guest.get("/api/org").json()["role"] == "analyst"

    used = Api().post(f"/api/invitations/{token}/accept", {"password": PASSWORD})
    assert used.status_code == 410
    assert used.json()["code"] == "invitation_used"
    members = [m["email"] for m in admin.get("/api/org/members").json()]
    assert "new.person@example.org" in members
    assert admin.get("/api/org/invitations").json() == []


def test_an_existing_user_accepts_while_logged_in_as_the_invitee(two_orgs: TwoOrgs, mailbox: Mailbox) -> None:
    someone = make_user("someone@example.org")
    other = make_user("other@example.org")
    two_orgs.as_role("admin").post("/api/org/invitations", {"email": "someone@example.org", "role": "member"})
    token = _token(mailbox, "someone@example.org")

    anonymous = Api().post(f"/api/invitations/{token}/accept", {})
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "login_required"
    wrong = Api().login(other).post(f"/api/invitations/{token}/accept", {})
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "wrong_user"
    assert not Membership.objects.filter(user__in=[someone, other], org=two_orgs.a).exists()

    right = Api().login(someone).post(f"/api/invitations/{token}/accept", {})
    assert right.status_code == 200
    assert Membership.objects.get(user=someone, org=two_orgs.a).role == "member"


def test_resend_replaces_the_link_and_revoke_kills_it(two_orgs: TwoOrgs, mailbox: Mailbox) -> None:
    admin = two_orgs.as_role("admin")
    invitation_id = admin.post("/api/org/invitations", {"email": "p@example.org", "role": "member"}).json()["id"]
    first = _token(mailbox, "p@example.org")
    resent = admin.post(f"/api/org/invitations/{invitation_id}/resend")
    assert resent.status_code == 200
    assert resent.json()["sent_count"] == 2
    second = _token(mailbox, "p@example.org")
    assert first != second
    assert Api().get(f"/api/invitations/{first}").status_code == 404
    assert Api().get(f"/api/invitations/{second}").status_code == 200

    assert admin.delete(f"/api/org/invitations/{invitation_id}").status_code == 204
    revoked = Api().post(f"/api/invitations/{second}/accept", {"password": PASSWORD})
    assert revoked.status_code == 410
    assert revoked.json()["code"] == "invitation_revoked"
    assert admin.delete(f"/api/org/invitations/{invitation_id}").status_code == 410
    assert not User.objects.filter(email="p@example.org").exists()


def test_expired_and_forged_tokens(two_orgs: TwoOrgs, mailbox: Mailbox) -> None:
    two_orgs.as_role("admin").post("/api/org/invitations", {"email": "late@example.org", "role": "member"})
    token = _token(mailbox, "late@example.org")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = Api().post(f"/api/invitations/{token}/accept", {"password": PASSWORD})
    assert expired.status_code == 410
    assert expired.json()["code"] == "invitation_expired"
    forged = Api().post(f"/api/invitations/{token[:-2]}xx/accept", {"password": PASSWORD})
    assert forged.status_code == 404
    assert forged.json()["code"] == "invitation_invalid"
    assert not User.objects.filter(email="late@example.org").exists()


def test_invitations_expire_after_seven_days(two_orgs: TwoOrgs) -> None:
    created = two_orgs.as_role("admin").post("/api/org/invitations", {"email": "x@example.org", "role": "member"})
    invitation = Invitation.objects.get(pk=created.json()["id"])
    assert timedelta(days=6, hours=23) < invitation.expires_at - invitation.created_at <= timedelta(days=7)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"email": "nope", "role": "member"}, 400, "invalid", "email"),
        ({"email": "x@example.org", "role": "owner"}, 400, "invalid", "role"),
        ({"email": "x@example.org"}, 422, "invalid", "role"),
        ({"email": "member@a.example.org", "role": "member"}, 409, "already_member", "email"),
    ],
)
def test_bad_invitations(two_orgs: TwoOrgs, body: dict[str, str], status: int, code: str, field: str) -> None:
    response = two_orgs.as_role("admin").post("/api/org/invitations", body)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert field in response.json()["fields"]
    assert not Invitation.objects.exists()


def test_duplicate_invitation_is_409(two_orgs: TwoOrgs) -> None:
    admin = two_orgs.as_role("admin")
    assert admin.post("/api/org/invitations", {"email": "dup@example.org", "role": "member"}).status_code == 201
    again = admin.post("/api/org/invitations", {"email": "DUP@example.org", "role": "analyst"})
    assert again.status_code == 409
    assert again.json()["code"] == "already_invited"
    assert Invitation.objects.get().role == "member"


def test_nobody_invites_above_their_own_role(two_orgs: TwoOrgs) -> None:
    response = two_orgs.as_role("admin").post(
        "/api/org/invitations", {"email": "boss@example.org", "role": "super-admin"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "role_escalation"
    assert response.json()["fields"] == {"role": "Above your own role."}
    assert not Invitation.objects.exists()
    ok = two_orgs.as_role("super-admin").post(
        "/api/org/invitations", {"email": "boss@example.org", "role": "super-admin"}
    )
    assert ok.status_code == 201
