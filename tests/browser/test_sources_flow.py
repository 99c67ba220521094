"""Ingest in a real browser against the real stack: an admin finds Faker in the catalogue, the
connector is installed from PyPI into its own virtualenv on first use, its spec becomes the form,
the live check passes and the source is saved; an analyst sees it read-only and can check it;
a member has no Ingest at all."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Stack, Steps
from tests.browser.test_explore_flow import _login
from tests.fixtures import PASSWORD

pytestmark = pytest.mark.browser


def test_admin_adds_a_faker_source_analyst_checks_member_sees_nothing(
    dalgo_stack: Stack, browser: Any, steps: Steps
) -> None:
    from playwright.sync_api import expect

    dalgo_stack.seed_org("Ingest Org", "ingest.example.org", PASSWORD)
    contexts = {role: browser.new_context(base_url=dalgo_stack.url) for role in ("admin", "analyst", "member")}
    pages = {role: ctx.new_page() for role, ctx in contexts.items()}
    for page in pages.values():
        page.set_default_timeout(20_000)
    steps.pages.update(pages)
    admin, analyst, member = pages["admin"], pages["analyst"], pages["member"]

    with steps("admin picks Faker and fills the form from its spec"):
        _login(admin, "admin@ingest.example.org")
        admin.get_by_test_id("nav-ingest").click()
        expect(admin.get_by_test_id("sources-empty")).to_be_visible()
        admin.get_by_test_id("source-new").click()
        admin.get_by_test_id("connector-search").fill("faker")
        admin.get_by_test_id("pick-faker").click()
        admin.get_by_label("Count").wait_for(timeout=120_000)  # installs the connector on first use
        admin.get_by_label("Count").fill("25")
        admin.get_by_test_id("source-name").fill("Demo people")

    with steps("check and save"):
        admin.get_by_test_id("source-check").click()
        result = admin.get_by_test_id("source-check-result")
        expect(result).to_have_attribute("data-ok", "true", timeout=60_000)
        admin.get_by_test_id("source-save").click()
        table = admin.get_by_test_id("sources-table")
        expect(table).to_contain_text("Demo people", timeout=60_000)
        expect(table).to_contain_text("Faker")

    with steps("analyst sees it read-only and checks it"):
        _login(analyst, "analyst@ingest.example.org")
        analyst.get_by_test_id("nav-ingest").click()
        expect(analyst.get_by_test_id("sources-table")).to_contain_text("Demo people")
        expect(analyst.get_by_test_id("source-new")).to_have_count(0)
        row_check = analyst.locator("[data-testid^='source-check-']").first
        row_check.click()
        last_check = analyst.locator("[data-testid^='source-last-check-']").first
        expect(last_check).to_contain_text("ok", ignore_case=True, timeout=60_000)

    with steps("member has no Ingest"):
        _login(member, "member@ingest.example.org")
        expect(member.get_by_test_id("nav-ingest")).to_have_count(0)
        member.goto("/ingest")
        expect(member.get_by_test_id("forbidden")).to_be_visible()

    for ctx in contexts.values():
        ctx.close()
