"""Walks every route of the OpenAPI schema as anonymous, as each role, and as a member of another
org, against the permission the route declares. A new route without a declared permission, or one
that answers differently from its declaration, fails here."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from dalgo.api import api as ninja_api
from dalgo.core.api import AUTHENTICATED, PERMISSION_KEY, PUBLIC
from dalgo.ingestion.models import Connection, Source
from dalgo.orgs import services as org_services
from dalgo.orgs.roles import PERMISSIONS, Role, role_permissions
from dalgo.runs.models import Run
from dalgo.warehouses import services as warehouse_services
from dalgo.warehouses.selectors import warehouse_adapter
from tests.fixtures import TwoOrgs

SCHEMA = ninja_api.get_openapi_schema()
ROUTES = [(method.upper(), path, op) for path, ops in SCHEMA["paths"].items() for method, op in ops.items()]
ORG_ROUTES = [(m, p, op) for m, p, op in ROUTES if op.get(PERMISSION_KEY) not in (PUBLIC, AUTHENTICATED)]
MISSING_ID = {
    "user_id": "999999",
    "invitation_id": "999999",
    "token_id": "999999",
    "run_id": "00000000-0000-0000-0000-000000000000",
    "token": "not-a-real-token",
    "schema": "survey",
    "table": "nope",
    "slug": "no-such-connector",
    "source_id": "999999",
    "connection_id": "999999",
}


def _route_id(route: tuple[str, str, dict[str, Any]]) -> str:
    return f"{route[0]} {route[1]}"


def _objects_of_org_a(orgs: TwoOrgs, path: str = "") -> dict[str, str]:
    """Real ids of org A's objects, to fill path parameters (a warehouse table only when the path needs one)."""
    actor = orgs.users["super-admin"]
    invitation = org_services.invitation_create(
        org=orgs.a, actor=actor, actor_role="super-admin", email="someone@example.org", role="member"
    )
    token, _raw = org_services.api_token_create(org=orgs.a, user=actor, name="ci")
    run = Run.objects.create(org=orgs.a, kind="platform-check", status="succeeded", finished_at=timezone.now())
    # A connector outside the catalogue: source routes answer without installing anything.
    source = Source.objects.create(org=orgs.a, name="Walked", connector_slug="walked", package="p", version="1")
    connection = Connection.objects.create(org=orgs.a, name="Walked", source=source, destination_schema="walked")
    if "{schema}" in path or "/warehouse" in path:
        warehouse = warehouse_services.warehouse_save(
            org=orgs.a, actor=actor, warehouse_type="duckdb", name="Main", config={}
        )
        warehouse_adapter(warehouse=warehouse).execute_script(  # type: ignore[attr-defined]
            "CREATE SCHEMA IF NOT EXISTS survey; CREATE OR REPLACE TABLE survey.households AS SELECT 1 AS id"
        )
    return {
        "user_id": str(orgs.users["member"].pk),
        "invitation_id": str(invitation.pk),
        "token_id": str(token.pk),
        "run_id": str(run.pk),
        "token": "not-a-real-token",
        "schema": "survey",
        "table": "households",
        "slug": "no-such-connector",  # connectors are global, not org data: any slug, answered quickly
        "source_id": str(source.pk),
        "connection_id": str(connection.pk),
    }


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path).replace("/api/api/", "/api/")


def test_every_route_declares_a_known_permission() -> None:
    assert ROUTES, "the schema lists no routes"
    for method, path, op in ROUTES:
        declared = op.get(PERMISSION_KEY)
        assert declared, f"{method} {path} declares no permission"
        assert declared in PERMISSIONS or declared in (PUBLIC, AUTHENTICATED), f"{method} {path}: {declared}"


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_anonymous(route: tuple[str, str, dict[str, Any]], two_orgs: TwoOrgs, api: Any) -> None:
    method, path, op = route
    response = api.request(method, _fill(path, _objects_of_org_a(two_orgs, path)), {} if method != "GET" else None)
    if op[PERMISSION_KEY] == PUBLIC:
        assert response.status_code != 401, response.content
    else:
        assert response.status_code == 401, response.content
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("route", ORG_ROUTES, ids=_route_id)
@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_role(route: tuple[str, str, dict[str, Any]], role: str, two_orgs: TwoOrgs) -> None:
    method, path, op = route
    permission = op[PERMISSION_KEY]
    response = two_orgs.as_role(role).request(
        method, _fill(path, _objects_of_org_a(two_orgs, path)), {} if method != "GET" else None
    )
    body = {} if response.streaming or not response.content else response.json()
    if not isinstance(body, dict):
        body = {}
    if permission in role_permissions(role):
        assert response.status_code not in (401, 500), body
        assert body.get("code") not in ("permission_denied", "org_not_found"), body
    else:
        assert response.status_code == 403, body
        assert body["code"] == "permission_denied"


@pytest.mark.parametrize("route", ORG_ROUTES, ids=_route_id)
def test_member_of_another_org_gets_404(route: tuple[str, str, dict[str, Any]], two_orgs: TwoOrgs) -> None:
    method, path, _op = route
    ids = _objects_of_org_a(two_orgs, path)
    body = {} if method != "GET" else None
    # Naming org A in the header: not a member, so org A does not exist for them.
    as_outsider = two_orgs.as_outsider()
    response = as_outsider.request(method, _fill(path, ids), body, **{"X-Dalgo-Org": two_orgs.a.slug})
    assert response.status_code == 404, response.content
    # Through their own org, org A's objects answer exactly like missing ones.
    if "{" in path:
        foreign = as_outsider.request(method, _fill(path, ids), body)
        missing = as_outsider.request(method, _fill(path, MISSING_ID), body)
        assert foreign.status_code == missing.status_code
        assert foreign.json() == missing.json()
        if foreign.status_code != 422:
            assert foreign.status_code in (404, 403), foreign.content


@pytest.mark.django_db
def test_unknown_org_header_is_404_and_missing_header_names_the_field(two_orgs: TwoOrgs) -> None:
    client = two_orgs.as_role("admin")
    response = client.get("/api/org/members", **{"X-Dalgo-Org": "no-such-org"})
    assert response.status_code == 404
    assert response.json()["code"] == "org_not_found"
    client.org = None
    response = client.get("/api/org/members")
    assert response.status_code == 400
    assert "X-Dalgo-Org" in response.json()["fields"]
