"""Ingest: the connector catalogue (sources and connections come next)."""

from django.http import HttpRequest
from ninja import Query, Schema

from dalgo.core.api import DalgoRouter
from dalgo.ingestion.connectors.catalog import catalog_list

router = DalgoRouter(tags=["ingestion"])


class ConnectorOut(Schema):
    name: str
    slug: str
    package: str
    version: str
    category: str
    summary: str
    docs_url: str
    favourite: bool


class ConnectorQuery(Schema):
    search: str | None = None
    category: str | None = None


@router.get("/connectors", permission="source.view", response=list[ConnectorOut])
def connector_list(request: HttpRequest, query: Query[ConnectorQuery]) -> list[ConnectorOut]:
    """Every Airbyte source connector published on PyPI, NGO favourites first."""
    entries = catalog_list(query.search)
    if query.category:
        entries = [e for e in entries if e["category"] == query.category]
    return [
        ConnectorOut(
            name=e["name"], slug=e["slug"], package=e["package"], version=e["version"], category=e["category"],
            summary=e["summary"], docs_url=e["docs_url"], favourite=e["favourite_rank"] is not None,
        )
        for e in entries
    ]  # fmt: skip
