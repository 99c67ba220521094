"""Warehouse and Explore in a real browser against the real stack (embedded mode: the statistics
job runs on the Celery worker through the filesystem broker): the admin sets up the managed DuckDB
warehouse, an analyst previews, sorts, downloads CSV and computes statistics with charts, and a
member is refused."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Stack, Steps
from tests.fixtures import PASSWORD

pytestmark = pytest.mark.browser

SURVEY_SQL = """
CREATE SCHEMA IF NOT EXISTS demo;
CREATE OR REPLACE TABLE demo.household_survey AS
SELECT i AS household_id,
       ['Barwani', 'Dhar', 'Jhabua', 'Khargone', 'Alirajpur'][1 + i % 5] AS district,
       ['Rampura', 'Sondwa', 'Kakrana', 'Bhabra', 'Udaygarh', 'Jobat', 'Pati', 'Sendhwa'][1 + (i * 7) % 8] AS village,
       DATE '2025-01-06' + ((i * 37) % 330)::INTEGER AS survey_date,
       (2 + (i * 13) % 8)::INTEGER AS household_size,
       CASE WHEN i % 17 = 0 THEN NULL ELSE ((i * 7919) % 18000 + 2500)::INTEGER END AS monthly_income_inr,
       ['handpump', 'piped', 'well', 'tanker', 'river'][1 + (i * 3) % 5] AS water_source,
       CASE WHEN i % 23 = 0 THEN NULL ELSE (i * 11) % 3 <> 0 END AS has_toilet,
       (i * 5) % 4 AS children_in_school,
       CASE WHEN i % 9 = 0 THEN 'Needs follow-up: ' || ['ration card', 'pension', 'MGNREGA job card'][1 + i % 3]
            WHEN i % 4 = 0 THEN '' ELSE NULL END AS surveyor_notes
FROM range(1, 1201) t(i);
"""

SEED_TABLE = f"""
from dalgo.orgs.models import Org
from dalgo.warehouses.selectors import warehouse_adapter, warehouse_get
warehouse = warehouse_get(org=Org.objects.get(name="Explore Org"))
warehouse_adapter(warehouse=warehouse).execute_script({SURVEY_SQL!r})
"""


def _login(page: Any, email: str) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("nav-home")).to_be_visible()


def test_admin_sets_up_duckdb_analyst_explores_member_refused(
    dalgo_stack: Stack, browser: Any, steps: Steps, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    slug = dalgo_stack.seed_org("Explore Org", "explore.example.org", PASSWORD)
    contexts = {role: browser.new_context(base_url=dalgo_stack.url, accept_downloads=True)
                for role in ("admin", "analyst", "member")}  # fmt: skip
    pages = {role: ctx.new_page() for role, ctx in contexts.items()}
    for page in pages.values():
        page.set_default_timeout(20_000)
    steps.pages.update(pages)
    admin, analyst, member = pages["admin"], pages["analyst"], pages["member"]

    with steps("admin sets up the managed DuckDB warehouse"):
        _login(admin, "admin@explore.example.org")
        admin.get_by_test_id("nav-settings-warehouse").click()
        admin.get_by_test_id("warehouse-setup").click()
        admin.get_by_test_id("warehouse-type-duckdb").click()
        admin.get_by_test_id("warehouse-name").fill("Survey warehouse")
        admin.get_by_test_id("warehouse-save").click()
        expect(admin.get_by_test_id("warehouse-status")).to_be_visible()
        expect(admin.get_by_test_id("warehouse-last-test")).to_be_visible()
        dalgo_stack.python(SEED_TABLE)

    with steps("analyst previews and sorts"):
        _login(analyst, "analyst@explore.example.org")
        analyst.get_by_test_id("nav-explore").click()
        analyst.get_by_test_id("explore-refresh").click()
        analyst.get_by_test_id("tree-table-demo.household_survey").click()
        table = analyst.get_by_test_id("preview-table")
        expect(table).to_contain_text("household_id")
        expect(analyst.get_by_test_id("explore-row-count")).to_contain_text(re.compile(r"1,?200"))
        header = analyst.get_by_test_id("sort-household_size")
        header.click()
        expect(header).to_have_attribute("data-direction", "asc")
        header.click()
        expect(header).to_have_attribute("data-direction", "desc")
        first_row = table.locator("tbody tr").first
        expect(first_row).to_contain_text("9")

    with steps("analyst downloads the CSV"):
        with analyst.expect_download() as info:
            analyst.get_by_test_id("explore-download").click()
        target = tmp_path / "survey.csv"
        info.value.save_as(target)
        rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
        assert rows[0][0] == "household_id"
        assert len(rows) == 1201

    with steps("analyst computes statistics and sees charts"):
        analyst.get_by_test_id("tab-statistics").click()
        analyst.get_by_test_id("stats-compute").click()
        expect(analyst.get_by_test_id("stats-column-district")).to_be_visible(timeout=90_000)
        for name in ("district", "household_size", "survey_date", "has_toilet"):
            chart = analyst.get_by_test_id(f"stats-chart-{name}")
            expect(chart).to_be_visible()
            expect(chart.locator("canvas, svg").first).to_be_attached()
        expect(analyst.get_by_test_id("stats-column-district")).to_contain_text("Barwani")

    with steps("a member is refused"):
        _login(member, "member@explore.example.org")
        expect(member.get_by_test_id("nav-explore")).to_have_count(0)
        expect(member.get_by_test_id("nav-settings-warehouse")).to_have_count(0)
        member.goto("/explore")
        expect(member.get_by_test_id("forbidden")).to_be_visible()
        refused = member.request.get("/api/explore/tree", headers={"X-Dalgo-Org": slug})
        assert refused.status == 403

    for ctx in contexts.values():
        ctx.close()
