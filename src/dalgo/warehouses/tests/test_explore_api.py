"""Explore through the API, on real DuckDB files and a real PostgreSQL database: the tree, paged and
sorted previews, CSV export, statistics computed in the warehouse, and the bad inputs."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from dalgo.warehouses.models import Warehouse
from dalgo.warehouses.selectors import warehouse_adapter
from tests.fixtures import Api, TwoOrgs

pytestmark = pytest.mark.django_db

DUCKDB_SEED = '''
CREATE SCHEMA survey;
CREATE TABLE survey.households AS
SELECT i AS id,
       ['Rampur', 'सीतापुर', 'Kheda', 'Ujjain', NULL][1 + i % 5] AS village,
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'हरि ' || i || ' 🌾' END AS head_name,
       (1 + i % 9)::INTEGER AS members,
       CASE WHEN i % 11 = 0 THEN NULL ELSE ((i * 137 % 50000) / 3.0)::DECIMAL(12, 2) END AS income,
       CASE WHEN i % 13 = 0 THEN NULL ELSE i % 3 = 0 END AS has_toilet,
       TIMESTAMPTZ '2024-01-01 08:00:00+05:30' + to_hours(i * 7) AS surveyed_at,
       DATE '2024-01-01' + (i % 400)::INTEGER AS visit_date,
       CASE WHEN i % 50 = 0 THEN repeat('wide text ', 600) ELSE 'note ' || i END AS notes
FROM range(1, 501) t(i);
CREATE TABLE survey.empty_table (id INTEGER, label VARCHAR);
CREATE TABLE survey."odd names" ("Village ""Name""" VARCHAR, "household size" INTEGER, "select" VARCHAR);
INSERT INTO survey."odd names" VALUES ('A''s place', 3, 'x'), ('B; DROP TABLE x', 5, NULL);
CREATE VIEW survey.big_households AS SELECT id, village, members FROM survey.households WHERE members > 5;
'''


@pytest.fixture(params=["duckdb", "postgres"])
def explorer_api(request: pytest.FixtureRequest, two_orgs: TwoOrgs) -> Api:
    """An analyst of org A whose warehouse (DuckDB or PostgreSQL) holds the seeded survey."""
    admin = two_orgs.as_role("admin")
    if request.param == "duckdb":
        saved = admin.request("PUT", "/api/warehouse", {"type": "duckdb", "name": "Main", "config": {}})
        assert saved.status_code == 200, saved.content
        warehouse_adapter(warehouse=Warehouse.objects.get()).execute_script(DUCKDB_SEED)  # type: ignore[attr-defined]
    else:
        pg = request.getfixturevalue("pg_warehouse")
        saved = admin.request("PUT", "/api/warehouse", {"type": "postgres", "name": "PG", "config": pg})
        assert saved.status_code == 200, saved.content
    return two_orgs.as_role("analyst")


def _preview(api: Api, table: str = "households", **params: Any) -> Any:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.get(f"/api/explore/tables/survey/{table}/preview?{query}")


def test_tree_lists_schemas_tables_views_and_typed_columns(explorer_api: Api) -> None:
    tree = explorer_api.get("/api/explore/tree?refresh=true").json()
    survey = next(s for s in tree["schemas"] if s["name"] == "survey")
    tables = {t["name"]: t for t in survey["tables"]}
    assert set(tables) >= {"households", "empty_table", "odd names", "big_households"}
    assert tables["big_households"]["kind"] == "view"
    kinds = {c["name"]: c["kind"] for c in tables["households"]["columns"]}
    assert kinds["members"] == "number"
    assert kinds["village"] == "text"
    assert kinds["surveyed_at"] == "datetime"
    assert kinds["visit_date"] == "date"
    assert kinds["has_toilet"] == "boolean"


def test_preview_pages_and_sorts(explorer_api: Api) -> None:
    first = _preview(explorer_api, limit=20, offset=0, sort="members", direction="desc").json()
    assert first["total_rows"] == 500
    assert len(first["rows"]) == 20
    names = [c["name"] for c in first["columns"]]
    members = [row[names.index("members")] for row in first["rows"]]
    assert members == sorted(members, reverse=True) and members[0] == 9
    second = _preview(explorer_api, limit=20, offset=20, sort="id", direction="asc").json()
    assert [row[0] for row in second["rows"]] == list(range(21, 41))
    past_the_end = _preview(explorer_api, limit=20, offset=10_000).json()
    assert past_the_end["rows"] == [] and past_the_end["total_rows"] == 500
    row = _preview(explorer_api, limit=1, offset=0, sort="id").json()["rows"][0]
    assert row[names.index("head_name")] == "हरि 1 🌾"
    assert row[names.index("surveyed_at")].startswith("2024-01-01T")


def test_odd_identifiers_and_empty_tables(explorer_api: Api) -> None:
    odd = _preview(explorer_api, "odd%20names", limit=10, sort="Village%20%22Name%22").json()
    assert [c["name"] for c in odd["columns"]] == ['Village "Name"', "household size", "select"]
    assert odd["rows"][0][0] == "A's place"
    assert odd["rows"][1][0] == "B; DROP TABLE x"
    empty = _preview(explorer_api, "empty_table", limit=10).json()
    assert (empty["rows"], empty["total_rows"]) == ([], 0)


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/explore/tables/survey/households/preview?sort=nope", 400, "sort"),
        ("/api/explore/tables/survey/households/preview?sort=id&direction=sideways", 400, "sort"),
        ("/api/explore/tables/survey/households/preview?limit=0", 400, "limit"),
        ("/api/explore/tables/survey/households/preview?offset=-1", 400, "offset"),
        ("/api/explore/tables/survey/households/preview?limit=abc", 422, "limit"),
        ("/api/explore/tables/survey/missing/preview", 404, None),
        ("/api/explore/tables/nope/households/preview", 404, None),
        ("/api/explore/tables/survey/households%3B%20DROP%20TABLE%20survey.households/preview", 404, None),
    ],
)
def test_bad_explore_requests(explorer_api: Api, path: str, status: int, field: str | None) -> None:
    response = explorer_api.get(path)
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["fields"]
    assert _preview(explorer_api, limit=1).json()["total_rows"] == 500  # nothing was harmed


def test_csv_download_streams_every_row(explorer_api: Api) -> None:
    response = explorer_api.get("/api/explore/tables/survey/households/download")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["id", "village", "head_name"]
    assert len(rows) == 501
    assert any(r[1] == "सीतापुर" for r in rows[1:])
    assert any(len(r[8]) == 6000 for r in rows[1:])  # the wide text survives whole


def test_statistics_are_computed_in_the_warehouse(explorer_api: Api) -> None:
    assert explorer_api.get("/api/explore/tables/survey/households/statistics").json()["code"] == "no_statistics"
    started = explorer_api.post("/api/explore/tables/survey/households/statistics")
    assert started.status_code == 202
    stats = explorer_api.get("/api/explore/tables/survey/households/statistics").json()
    assert stats["status"] == "succeeded", stats["error"]
    assert stats["row_count"] == 500
    assert stats["progress"]["done"] == stats["progress"]["total"] > 1
    cols = {c["name"]: c for c in stats["columns"]}
    members = cols["members"]
    assert (members["min"], members["max"], members["nulls"], members["distinct"]) == (1, 9, 0, 9)
    assert members["mean"] == pytest.approx(sum(1 + i % 9 for i in range(1, 501)) / 500)
    assert sum(b["count"] for b in members["histogram"]) == 500
    assert cols["head_name"]["nulls"] == len([i for i in range(1, 501) if i % 7 == 0])
    village_top = {v["value"]: v["count"] for v in cols["village"]["top_values"]}
    assert village_top["सीतापुर"] == 100
    toilet = cols["has_toilet"]
    expected_true = len([i for i in range(1, 501) if i % 13 and i % 3 == 0])
    assert toilet["true_count"] == expected_true
    assert toilet["nulls"] == len([i for i in range(1, 501) if i % 13 == 0])
    months = cols["visit_date"]["histogram"]
    assert months[0]["bucket"] == "2024-01" and sum(m["count"] for m in months) == 500
    assert cols["visit_date"]["min"].startswith("2024-01-0")


def test_download_streams_under_asgi(explorer_api: Api) -> None:
    """Under ASGI (how web runs), the CSV goes out chunk by chunk instead of being read whole first."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    user_id = explorer_api.client.session["_auth_user_id"]

    async def download() -> tuple[bool, list[bytes]]:
        from dalgo.accounts.models import User

        client = AsyncClient()
        await client.aforce_login(await User.objects.aget(pk=user_id))
        response = await client.get(
            "/api/explore/tables/survey/households/download", headers={"X-Dalgo-Org": explorer_api.org or ""}
        )
        return response.is_async, [chunk async for chunk in response.streaming_content]

    is_async, chunks = async_to_sync(download)()
    assert is_async
    assert len(chunks) >= 2  # the BOM, then the warehouse's own CSV chunks
    text = b"".join(chunks).decode("utf-8-sig")
    assert text.count("\n") >= 501
