"""Sign-up, login (with throttling and CSRF), passwords and email verification through the API,
with emails read from a real SMTP server on loopback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from dalgo.accounts.models import User
from dalgo.core.models import AuditEvent
from dalgo.orgs.models import Membership, Org
from tests.fixtures import PASSWORD, Api, Mailbox, make_user

pytestmark = pytest.mark.django_db


def _query(link: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}


def test_signup_creates_user_and_org_logs_in_and_mails_a_verification_link(api: Api, mailbox: Mailbox) -> None:
    response = api.post(
        "/api/auth/signup",
        {"email": "Asha@Example.org", "password": PASSWORD, "name": "Asha", "org_name": "Pratham Field Team"},
    )
    assert response.status_code == 201, response.content
    me = response.json()
    assert me["user"]["email"] == "asha@example.org"
    assert me["user"]["email_verified"] is False
    assert [(o["name"], o["role"]) for o in me["orgs"]] == [("Pratham Field Team", "super-admin")]
    assert me["last_org"] == "pratham-field-team"
    assert api.get("/api/me").status_code == 200  # the session is live

    link = mailbox.last_link("asha@example.org", "/verify-email")
    token = _query(link)["token"]
    assert api.post("/api/auth/email/verify", {"token": token}).status_code == 200
    assert User.objects.get(email="asha@example.org").email_verified_at is not None
    assert api.post("/api/auth/email/verify", {"token": token + "x"}).json()["fields"] == {
        "token": "This verification link is invalid."
    }


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email", "invalid"),
        ({"email": "a@example.org", "password": "short"}, "password", "weak_password"),
        ({"email": "a@example.org", "password": "12345678901"}, "password", "weak_password"),
        ({"email": "a@example.org", "password": "password123"}, "password", "weak_password"),
        ({"email": "a@example.org"}, "password", "invalid"),
        ({"email": "a@example.org", "password": PASSWORD, "org_name": "   "}, "name", "invalid"),
    ],
)
def test_signup_rejects_bad_input_with_the_field_and_changes_nothing(
    api: Api, body: dict[str, str], field: str, code: str
) -> None:
    response = api.post("/api/auth/signup", body)
    assert 400 <= response.status_code < 500
    error = response.json()
    assert error["code"] == code
    assert field in error["fields"], error
    assert error["fields"][field]
    if field != "name":  # the blank org name is caught after the user is created, then rolled back
        assert not User.objects.exists()
    assert not User.objects.filter(email="a@example.org").exists()
    assert not Org.objects.exists()


def test_signup_with_a_taken_email_is_409(api: Api) -> None:
    make_user("taken@example.org")
    response = api.post("/api/auth/signup", {"email": "TAKEN@example.org", "password": PASSWORD})
    assert response.status_code == 409
    assert response.json()["fields"] == {"email": "Already registered."}


def test_operator_can_forbid_org_creation_at_signup(api: Api, settings: object) -> None:
    settings.DALGO_SIGNUP_CREATES_ORGS = False  # type: ignore[attr-defined]
    response = api.post("/api/auth/signup", {"email": "x@example.org", "password": PASSWORD, "org_name": "X"})
    assert response.status_code == 400
    assert "org_name" in response.json()["fields"]
    assert not User.objects.exists()
    response = api.post("/api/auth/signup", {"email": "x@example.org", "password": PASSWORD})
    assert response.status_code == 201
    assert response.json()["orgs"] == []
    assert api.post("/api/orgs", {"name": "Mine"}).status_code == 403


def test_login_logout_and_wrong_password(api: Api) -> None:
    make_user("ravi@example.org")
    bad = api.post("/api/auth/login", {"email": "ravi@example.org", "password": "nope"})
    assert bad.status_code == 401
    assert bad.json()["code"] == "invalid_credentials"
    assert api.get("/api/me").status_code == 401
    assert api.post("/api/auth/login", {"email": "RAVI@example.org", "password": PASSWORD}).status_code == 200
    assert api.get("/api/me").json()["user"]["email"] == "ravi@example.org"
    assert api.post("/api/auth/logout").status_code == 200
    assert api.get("/api/me").status_code == 401
    assert AuditEvent.objects.filter(action="user.login_failed", target_label="ravi@example.org").count() == 1


def test_login_is_rate_limited_after_repeated_failures(api: Api, settings: object) -> None:
    make_user("ravi@example.org")
    limit = settings.DALGO_LOGIN_MAX_FAILURES  # type: ignore[attr-defined]
    for _ in range(limit):
        assert api.post("/api/auth/login", {"email": "ravi@example.org", "password": "wrong"}).status_code == 401
    blocked = api.post("/api/auth/login", {"email": "ravi@example.org", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "rate_limited"
    assert api.get("/api/me").status_code == 401


def test_session_writes_need_the_csrf_token() -> None:
    make_user("ravi@example.org")
    client = Client(enforce_csrf_checks=True)
    refused = client.post(
        "/api/auth/login", {"email": "ravi@example.org", "password": PASSWORD}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    token = client.get("/api/auth/csrf").json()["csrf_token"]
    accepted = client.post(
        "/api/auth/login",
        {"email": "ravi@example.org", "password": PASSWORD},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 200, accepted.content


def test_password_reset_by_email(api: Api, mailbox: Mailbox) -> None:
    make_user("meena@example.org")
    assert api.post("/api/auth/password/forgot", {"email": "meena@example.org"}).status_code == 200
    assert api.post("/api/auth/password/forgot", {"email": "nobody@example.org"}).status_code == 200
    assert mailbox.to("nobody@example.org") == []
    params = _query(mailbox.last_link("meena@example.org", "/reset-password"))

    weak = api.post("/api/auth/password/reset", {**params, "new_password": "abc"})
    assert weak.status_code == 400
    assert "new_password" in weak.json()["fields"]
    forged = api.post(
        "/api/auth/password/reset", {**params, "token": "1-forged", "new_password": "a-new-long-secret-42"}
    )
    assert forged.status_code == 400
    assert forged.json()["fields"]["token"]

    ok = api.post("/api/auth/password/reset", {**params, "new_password": "a-new-long-secret-42"})
    assert ok.status_code == 200
    reused = api.post("/api/auth/password/reset", {**params, "new_password": "another-long-secret-42"})
    assert reused.status_code == 400  # the token dies with the old password
    login = api.post("/api/auth/login", {"email": "meena@example.org", "password": "a-new-long-secret-42"})
    assert login.status_code == 200


def test_change_password(api: Api) -> None:
    user = make_user("meena@example.org")
    api.login(user)
    wrong = api.post("/api/auth/password/change", {"current_password": "nope", "new_password": "a-new-long-secret-42"})
    assert wrong.status_code == 400
    assert wrong.json()["fields"] == {"current_password": "The current password is incorrect."}
    ok = api.post("/api/auth/password/change", {"current_password": PASSWORD, "new_password": "a-new-long-secret-42"})
    assert ok.status_code == 200
    assert api.get("/api/me").status_code == 200  # still logged in
    user.refresh_from_db()
    assert user.check_password("a-new-long-secret-42")


def test_malformed_json_is_a_clear_400(api: Api) -> None:
    response = api.request("POST", "/api/auth/login", raw=b'{"email": "x@example.org", "password": ')
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request body is not valid JSON.",
        "code": "malformed_json",
        "fields": {"body": "Not valid JSON."},
        "related": {},
    }


def test_wrong_types_name_the_field(api: Api) -> None:
    response = api.post("/api/auth/login", {"email": ["x"], "password": 3})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"email", "password"}


def test_memberships_listed_in_me(api: Api) -> None:
    user = make_user()
    org = Org.objects.create(name="Zeta", slug="zeta")
    Membership.objects.create(org=org, user=user, role="analyst")
    me = api.login(user).get("/api/me").json()
    assert me["orgs"][0]["role"] == "analyst"
    assert "chart.edit" in me["orgs"][0]["permissions"]
    assert "member.manage" not in me["orgs"][0]["permissions"]


def test_update_own_name(api: Api) -> None:
    user = make_user("meena@example.org", name="M")
    api.login(user)
    assert api.patch("/api/me", {"name": "  Meena Kumari "}).json()["user"]["name"] == "Meena Kumari"
    too_long = api.patch("/api/me", {"name": "x" * 151})
    assert too_long.status_code == 400
    assert "name" in too_long.json()["fields"]
    user.refresh_from_db()
    assert user.name == "Meena Kumari"
