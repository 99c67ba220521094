"""Operators' Django admin, the public health endpoint and the SPA fallback."""

from __future__ import annotations

import pytest
from django.test import Client

from dalgo.accounts.models import User
from tests.fixtures import make_org, make_user

pytestmark = pytest.mark.django_db


def test_admin_is_for_platform_operators_only() -> None:
    operator = User.objects.create_superuser(email="ops@example.org", password="x-long-operator-pw")
    make_org("Visible Org", owner=make_user())
    client = Client()
    assert client.get("/admin/").status_code == 302  # to the admin login
    client.force_login(make_user())
    assert client.get("/admin/").status_code == 302  # a normal user is not staff
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/orgs/org/")
    assert page.status_code == 200
    assert b"Visible Org" in page.content


def test_health_lists_each_component_with_status_and_latency() -> None:
    response = Client().get("/health")
    body = response.json()
    by_name = {c["name"]: c for c in body["components"]}
    assert by_name["database"]["status"] == "ok"
    assert by_name["cache"]["status"] == "ok"
    assert by_name["broker"]["status"] == "ok"
    assert isinstance(by_name["database"]["latency_ms"], float)
    # Unit tests run no orchestrator: health says so, plainly, with a 503 for load balancers.
    assert by_name["orchestrator"]["status"] == "down"
    assert "cannot be reached" in by_name["orchestrator"]["message"]
    assert body["status"] == "degraded"
    assert response.status_code == 503


def test_unknown_api_path_is_a_json_404_and_other_paths_serve_the_app() -> None:
    response = Client().get("/api/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such API endpoint.", "code": "not_found", "fields": {}, "related": {}}
    page = Client().get("/settings/users")
    assert page.status_code in (200, 503)  # 503 only when the UI has not been built
    assert b"Dalgo" in page.content


def test_concurrent_cache_checks_do_not_collide() -> None:
    """Regression: a shared probe key made concurrent /health calls report the cache down."""
    from concurrent.futures import ThreadPoolExecutor

    from dalgo.system.health import cache_check

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: cache_check(), range(200)))
    assert all(r.get("status", "ok") == "ok" for r in results), [r for r in results if r.get("status")]
