"""The shipped catalogue of PyPI connectors."""

from __future__ import annotations

from dalgo.ingestion.connectors.catalog import catalog_entry, catalog_list


def test_catalog_lists_favourites_first() -> None:
    entries = catalog_list()
    assert len(entries) > 250
    assert [e["slug"] for e in entries[:3]] == ["commcare", "surveycto", "avni"]
    ranks = [e["favourite_rank"] for e in entries if e["favourite_rank"] is not None]
    assert ranks == sorted(ranks)
    assert all(e["package"] == f"airbyte-source-{e['slug']}" for e in entries)
    assert entries[0]["docs_url"] == "https://docs.airbyte.com/integrations/sources/commcare"
    assert entries[0]["category"] == "forms & surveys"


def test_catalog_search() -> None:
    assert [e["slug"] for e in catalog_list("commcare")] == ["commcare"]
    assert {e["slug"] for e in catalog_list("forms")} >= {"commcare", "surveycto", "typeform"}
    assert catalog_list("no such connector anywhere") == []
    assert catalog_list("  ") == catalog_list()
    faker = catalog_entry("faker")
    assert faker is not None and faker["version"]
