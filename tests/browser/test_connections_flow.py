"""Connections in a real browser against the real stack (embedded mode: the sync runs as a Prefect flow
on the local worker, the Faker connector in its own virtualenv, loading into the managed DuckDB):
an admin creates a connection of one Faker stream, syncs it and watches it succeed with its records,
logs and history, and the table shows in Explore; a second Sync now while the first runs answers
"already running"; an analyst sees the connection read-only; a member has no Ingest at all."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Stack, Steps
from tests.browser.test_explore_flow import _login
from tests.fixtures import PASSWORD

pytestmark = pytest.mark.browser

DOMAIN = "connections.example.org"
USERS = 500
SCHEMA = "faker_people"
SYNC_TIMEOUT_MS = 180_000  # Prefect starts the flow run in a few seconds; the sync itself takes a few more


def _api(page: Any, slug: str, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    """The API as the logged-in user of `page` (its session cookie, a CSRF token, the org header)."""
    csrf = page.request.get("/api/auth/csrf").json()["csrf_token"]
    response = page.request.fetch(
        path, method=method, data=data, timeout=300_000,
        headers={"X-Dalgo-Org": slug, "X-CSRFToken": csrf},
    )  # fmt: skip
    assert response.ok, f"{method} {path}: {response.status} {response.text()[:2000]}"
    return response.json() if response.status != 204 else None


def _sync_failure(stack: Stack, slug: str, page: Any, connection_id: int) -> str:
    """What to report when the sync does not succeed: the run as the API shows it, its log lines and the
    stack's own log tail."""
    parts = []
    try:
        runs = _api(page, slug, "GET", f"/api/connections/{connection_id}/syncs")
        parts.append(f"runs: {runs}")
        for run in runs[:1]:
            logs = _api(page, slug, "GET", f"/api/connections/{connection_id}/syncs/{run['id']}/logs?offset=0")
            parts.append("run log:\n" + "\n".join(f"{ln['level']} {ln['message']}" for ln in logs["lines"]))
    except AssertionError as exc:
        parts.append(str(exc))
    parts.append("dalgo up log tail:\n" + stack.log.read_text(errors="replace")[-6000:])
    return "\n\n".join(parts)


def test_admin_creates_and_syncs_a_connection_analyst_reads_member_sees_nothing(
    dalgo_stack: Stack, browser: Any, steps: Steps
) -> None:
    from playwright.sync_api import expect

    slug = dalgo_stack.seed_org("Connections Org", DOMAIN, PASSWORD)
    contexts = {role: browser.new_context(base_url=dalgo_stack.url) for role in ("admin", "analyst", "member")}
    pages = {role: ctx.new_page() for role, ctx in contexts.items()}
    for page in pages.values():
        page.set_default_timeout(20_000)
    steps.pages.update(pages)
    admin, analyst, member = pages["admin"], pages["analyst"], pages["member"]

    with steps("admin sets up the DuckDB warehouse and a Faker source through the API"):
        _login(admin, f"admin@{DOMAIN}")
        _api(admin, slug, "PUT", "/api/warehouse", {"type": "duckdb", "name": "Warehouse", "config": {}})
        # Installs the connector on first use (the sources browser test covers the form).
        faker = {"connector": "faker", "name": "Faker people", "config": {"count": USERS, "seed": 7}}
        source_id = _api(admin, slug, "POST", "/api/sources", faker)["id"]

    with steps("admin creates a connection of the users stream"):
        admin.get_by_test_id("nav-ingest").click()
        admin.get_by_test_id("tab-connections").click()
        admin.get_by_test_id("connection-new").first.click()
        expect(admin.get_by_test_id("page-connection-new")).to_be_visible()
        admin.get_by_test_id("connection-source").select_option(str(source_id))
        # Discovered on first use: the connector runs its discover.
        expect(admin.get_by_test_id("connection-streams")).to_be_visible(timeout=120_000)
        expect(admin.get_by_test_id("connection-name")).to_have_value("Faker people")
        admin.get_by_test_id("connection-name").fill("People to warehouse")
        admin.get_by_test_id("connection-schema").fill(SCHEMA)
        for stream in ("products", "purchases"):
            box = admin.get_by_test_id(f"conn-stream-selected-{stream}")
            box.uncheck()
            expect(box).not_to_be_checked()
        expect(admin.get_by_test_id("conn-stream-selected-users")).to_be_checked()
        expect(admin.get_by_test_id("streams-selected-count")).to_contain_text("1 of 3")
        admin.get_by_test_id("connection-save").click()
        expect(admin.get_by_test_id("page-connection")).to_contain_text("People to warehouse")
        expect(admin.get_by_test_id("sync-none")).to_be_visible()
        found = re.search(r"/ingest/connections/(\d+)(?:\?|$)", admin.url)
        assert found, admin.url
        connection_id = int(found.group(1))

    # A second page of the admin's, opened before the sync starts, still offers Sync now.
    second = contexts["admin"].new_page()
    second.set_default_timeout(20_000)
    steps.pages["admin-2"] = second
    second.goto(f"/ingest/connections/{connection_id}")
    expect(second.get_by_test_id("connection-sync")).to_be_enabled()

    with steps("admin clicks Sync now and sees the sync start"):
        admin.get_by_test_id("connection-sync").click()
        panel = admin.get_by_test_id("sync-run")
        expect(panel).to_be_visible()
        run_id = panel.get_attribute("data-run-id")
        assert run_id
        expect(admin.get_by_test_id("sync-status")).to_have_text(re.compile(r"queued|running|succeeded"))
        # Prefect takes seconds to start the flow run: the page shows the sync as running meanwhile.
        expect(admin.get_by_test_id("connection-sync")).to_have_text("Syncing…")
        expect(admin.get_by_test_id("connection-sync")).to_be_disabled()
        expect(admin.get_by_test_id("connection-cancel")).to_be_visible()

    with steps("a second Sync now while it runs says it is already running"):
        second.get_by_test_id("connection-sync").click()
        alert = second.get_by_test_id("sync-running-alert")
        expect(alert).to_contain_text("already running")
        second.get_by_test_id("sync-running-view").click()
        expect(second.get_by_test_id("sync-run")).to_have_attribute("data-run-id", run_id)
        expect(second.get_by_test_id("sync-running-alert")).to_have_count(0)
        second.close()
        del steps.pages["admin-2"]

    with steps("the sync succeeds with its records, per-stream stats and logs"):
        status = admin.get_by_test_id("sync-status")
        try:
            expect(status).to_have_text(re.compile(r"succeeded|warning|failed|cancelled"), timeout=SYNC_TIMEOUT_MS)
        except AssertionError:
            pytest.fail("the sync did not finish:\n" + _sync_failure(dalgo_stack, slug, admin, connection_id))
        ended = (status.text_content() or "").strip()  # the badge upper-cases it only on screen
        if ended != "succeeded":
            pytest.fail(f"the sync ended {ended!r}:\n" + _sync_failure(dalgo_stack, slug, admin, connection_id))
        expect(admin.get_by_test_id("sync-error")).to_have_count(0)
        expect(admin.get_by_test_id("sync-total-records")).to_contain_text(f"{USERS}")
        expect(admin.get_by_test_id("sync-stream-status-users")).to_have_text("complete")
        expect(admin.get_by_test_id("sync-stream-users")).to_contain_text(f"{USERS}")
        expect(admin.get_by_test_id("sync-stream-products")).to_have_count(0)
        expect(admin.get_by_test_id("sync-duration")).to_be_visible()
        logs = admin.get_by_test_id("sync-logs")
        expect(logs.get_by_test_id("log-line").first).to_be_visible(timeout=30_000)
        expect(admin.get_by_test_id("connection-sync")).to_have_text("Sync now")
        expect(admin.get_by_test_id("connection-sync")).to_be_enabled()

    with steps("the history shows the run"):
        row = admin.get_by_test_id(f"sync-row-{run_id}")
        expect(row).to_contain_text("succeeded", timeout=30_000)
        expect(row).to_contain_text(f"{USERS}")
        expect(admin.get_by_test_id("syncs-chart")).to_be_visible()
        admin.get_by_test_id("nav-ingest").click()
        admin.get_by_test_id("tab-connections").click()
        expect(admin.get_by_test_id(f"connection-last-sync-{connection_id}")).to_have_text("succeeded")
        expect(admin.get_by_test_id(f"connection-row-{connection_id}")).to_contain_text(f"{USERS} records")
        expect(admin.get_by_test_id(f"connection-streams-{connection_id}")).to_have_text("1 of 3")

    with steps("Explore shows the loaded table"):
        admin.get_by_test_id("nav-explore").click()
        admin.get_by_test_id("explore-refresh").click()
        admin.get_by_test_id(f"tree-table-{SCHEMA}.users").click()
        expect(admin.get_by_test_id("explore-row-count")).to_contain_text(f"{USERS} rows")
        expect(admin.get_by_test_id("preview-table")).to_contain_text("email")
        preview = _api(admin, slug, "GET", f"/api/explore/tables/{SCHEMA}/users/preview?limit=5")
        assert preview["total_rows"] == USERS and len(preview["rows"]) == 5

    with steps("analyst sees the connection read-only"):
        _login(analyst, f"analyst@{DOMAIN}")
        analyst.get_by_test_id("nav-ingest").click()
        analyst.get_by_test_id("tab-connections").click()
        row = analyst.get_by_test_id(f"connection-row-{connection_id}")
        expect(row).to_contain_text("People to warehouse")
        expect(analyst.get_by_test_id(f"connection-last-sync-{connection_id}")).to_have_text("succeeded")
        expect(analyst.get_by_test_id(f"connection-sync-{connection_id}")).to_have_count(0)
        expect(analyst.get_by_test_id(f"connection-edit-{connection_id}")).to_have_count(0)
        expect(analyst.get_by_test_id("connection-new")).to_have_count(0)
        row.get_by_role("link", name="People to warehouse").click()
        expect(analyst.get_by_test_id("page-connection")).to_be_visible()
        expect(analyst.get_by_test_id("sync-status")).to_have_text("succeeded")
        expect(analyst.get_by_test_id("sync-total-records")).to_contain_text(f"{USERS}")
        expect(analyst.get_by_test_id(f"sync-row-{run_id}")).to_be_visible()
        expect(analyst.get_by_test_id("connection-sync")).to_have_count(0)
        expect(analyst.get_by_test_id("connection-edit")).to_have_count(0)
        expect(analyst.get_by_test_id("tab-manage")).to_have_count(0)
        refused = analyst.request.post(
            f"/api/connections/{connection_id}/sync",
            headers={"X-Dalgo-Org": slug, "X-CSRFToken": analyst.request.get("/api/auth/csrf").json()["csrf_token"]},
        )
        assert refused.status == 403, refused.text()

    with steps("member has no Ingest"):
        _login(member, f"member@{DOMAIN}")
        expect(member.get_by_test_id("nav-ingest")).to_have_count(0)
        member.goto(f"/ingest/connections/{connection_id}")
        expect(member.get_by_test_id("forbidden")).to_be_visible()
        assert member.request.get("/api/connections", headers={"X-Dalgo-Org": slug}).status == 403

    for ctx in contexts.values():
        ctx.close()
