"""A newcomer's first session, in a real browser against the real stack: sign up with an org,
invite a colleague, the colleague accepts in another browser, cannot see user management, and the
admin runs the platform check and watches it complete with logs."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Stack, Steps
from tests.fixtures import PASSWORD, Mailbox

pytestmark = pytest.mark.browser


def _invitation_link(mailbox: Mailbox, email: str, timeout: float = 30) -> str:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return mailbox.last_link(email, "/invite/")
        except AssertionError:
            time.sleep(0.3)
    return mailbox.last_link(email, "/invite/")


def test_signup_invite_accept_roles_and_platform_check(
    dalgo_stack: Stack, browser: Any, mailbox: Mailbox, steps: Steps
) -> None:
    from playwright.sync_api import expect

    admin_ctx = browser.new_context(base_url=dalgo_stack.url)
    member_ctx = browser.new_context(base_url=dalgo_stack.url)
    admin = admin_ctx.new_page()
    member = member_ctx.new_page()
    steps.pages.update(admin=admin, member=member)
    admin.set_default_timeout(20_000)
    member.set_default_timeout(20_000)

    with steps("sign up"):
        admin.goto("/signup")
        admin.get_by_label("Email").fill("founder@ngo.example.org")
        admin.get_by_label("Your name").fill("Founder")
        admin.get_by_label("Password").fill(PASSWORD)
        admin.get_by_label("Organisation name").fill("Field Data Collective")
        admin.get_by_test_id("signup-submit").click()
        expect(admin.get_by_test_id("nav-home")).to_be_visible()
        expect(admin.get_by_test_id("org-switcher")).to_contain_text("Field Data Collective")

    with steps("invite a colleague"):
        admin.get_by_test_id("nav-settings-users").click()
        expect(admin.get_by_test_id("members-table")).to_contain_text("founder@ngo.example.org")
        admin.get_by_test_id("invite-button").click()
        admin.get_by_test_id("invite-email").fill("colleague@ngo.example.org")
        admin.get_by_test_id("invite-role").select_option("member")
        admin.get_by_test_id("invite-submit").click()
        expect(admin.get_by_test_id("invitations-table")).to_contain_text("colleague@ngo.example.org")

    with steps("accept in a second browser"):
        link = _invitation_link(mailbox, "colleague@ngo.example.org")
        assert link.startswith(dalgo_stack.url)
        member.goto(link)
        expect(member.get_by_text("Field Data Collective").first).to_be_visible()
        member.get_by_label("Your name").fill("Colleague")
        member.get_by_label("Password").fill(PASSWORD)
        member.get_by_test_id("accept-submit").click()
        expect(member.get_by_test_id("nav-home")).to_be_visible()

    with steps("the member cannot see user management"):
        expect(member.get_by_test_id("nav-dashboards")).to_be_visible()
        expect(member.get_by_test_id("nav-settings-users")).to_have_count(0)
        expect(member.get_by_test_id("nav-settings-system")).to_have_count(0)
        slug = member.evaluate("() => localStorage.getItem('dalgo.org')") or ""
        refused = member.request.get("/api/org/members", headers={"X-Dalgo-Org": slug})
        assert refused.status == 403, refused.text()
        admin.reload()
        expect(admin.get_by_test_id("members-table")).to_contain_text("colleague@ngo.example.org")

    with steps("platform check"):
        admin.get_by_test_id("nav-settings-system").click()
        expect(admin.get_by_test_id("component-database")).to_be_visible()
        admin.get_by_test_id("run-check").click()
        expect(admin.get_by_test_id("check-status")).to_have_text(re.compile("succeeded", re.I), timeout=120_000)
        logs = admin.get_by_test_id("check-logs")
        expect(logs).to_contain_text("database", ignore_case=True)
        assert logs.locator(":scope > *").count() >= 3

    admin_ctx.close()
    member_ctx.close()
