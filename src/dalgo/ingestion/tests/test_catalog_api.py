"""The connector catalogue through the API: favourites first, searchable, by role."""

from __future__ import annotations

import pytest

from tests.fixtures import TwoOrgs

pytestmark = pytest.mark.django_db


def test_catalogue_lists_every_pypi_connector_with_ngo_favourites_first(two_orgs: TwoOrgs) -> None:
    connectors = two_orgs.as_role("analyst").get("/api/connectors").json()
    assert len(connectors) > 250
    assert [c["slug"] for c in connectors[:3]] == ["commcare", "surveycto", "avni"]
    assert all(c["package"].startswith("airbyte-source-") for c in connectors)
    favourites = [c for c in connectors if c["favourite"]]
    assert connectors[: len(favourites)] == favourites
    faker = next(c for c in connectors if c["slug"] == "faker")
    assert faker["docs_url"] == "https://docs.airbyte.com/integrations/sources/faker"


def test_search_and_category(two_orgs: TwoOrgs) -> None:
    analyst = two_orgs.as_role("analyst")
    sheets = analyst.get("/api/connectors?search=google%20sheets").json()
    assert [c["slug"] for c in sheets][:1] == ["google-sheets"]
    forms = analyst.get("/api/connectors?category=forms%20%26%20surveys").json()
    assert forms and all(c["category"] == "forms & surveys" for c in forms)
    assert analyst.get("/api/connectors?search=zzzz-no-such-thing").json() == []
    assert two_orgs.as_role("member").get("/api/connectors").status_code == 403
