"""Ingest: the connector catalogue and sources (connections and syncs come next)."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Schema, Status

from dalgo.core.api import DalgoRouter, ctx_of
from dalgo.ingestion import selectors, services
from dalgo.ingestion.connectors.catalog import catalog_entry, catalog_list
from dalgo.ingestion.models import Source
from dalgo.ingestion.secrets import secret_paths, secrets_masked

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


class ConnectorSpecOut(Schema):
    slug: str
    name: str
    package: str
    version: str
    documentation_url: str
    spec: dict[str, Any]
    secret_paths: list[list[str]]


class SourceOut(Schema):
    id: int
    name: str
    connector_slug: str
    connector_name: str
    package: str
    version: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    last_checked_at: datetime | None
    last_check_ok: bool | None
    last_check_message: str


class SourceIn(Schema):
    connector: str
    name: str
    config: dict[str, Any] = {}


class SourceUpdateIn(Schema):
    name: str
    config: dict[str, Any] = {}


class SourceCheckIn(Schema):
    connector: str
    config: dict[str, Any] = {}
    source_id: int | None = None


class StreamColumnOut(Schema):
    name: str
    type: str


class StreamOut(Schema):
    name: str
    namespace: str | None
    supported_sync_modes: list[str]
    source_defined_cursor: bool
    default_cursor_field: list[str]
    source_defined_primary_key: list[list[str]]
    columns: list[StreamColumnOut]


class SourceStreamsOut(Schema):
    discovered_at: datetime | None
    streams: list[StreamOut]


class StreamsQuery(Schema):
    refresh: bool = False


def _json_type(prop: Any) -> str:
    """A stream column's JSON-schema type as one readable word (nullable unions collapsed)."""
    if not isinstance(prop, dict):
        return "unknown"
    kind = prop.get("type")
    types = [t for t in (kind if isinstance(kind, list) else [kind]) if t and t != "null"]
    name = str(types[0]) if types else ("object" if "oneOf" in prop or "anyOf" in prop else "unknown")
    fmt = prop.get("format")
    return f"{name} ({fmt})" if fmt in ("date", "date-time", "time") else name


def _stream_out(stream: dict[str, Any]) -> StreamOut:
    properties = (stream.get("json_schema") or {}).get("properties") or {}
    return StreamOut(
        name=str(stream.get("name")), namespace=stream.get("namespace"),
        supported_sync_modes=[str(m) for m in stream.get("supported_sync_modes") or []],
        source_defined_cursor=bool(stream.get("source_defined_cursor")),
        default_cursor_field=[str(c) for c in stream.get("default_cursor_field") or []],
        source_defined_primary_key=[[str(p) for p in key] for key in stream.get("source_defined_primary_key") or []],
        columns=[StreamColumnOut(name=str(name), type=_json_type(prop)) for name, prop in properties.items()],
    )  # fmt: skip


class CheckOut(Schema):
    ok: bool
    message: str


def _source_out(source: Source) -> SourceOut:
    entry = catalog_entry(source.connector_slug)
    return SourceOut(
        id=source.pk, name=source.name, connector_slug=source.connector_slug,
        connector_name=entry["name"] if entry else source.connector_slug, package=source.package,
        version=source.version, config=secrets_masked(config=source.config, secrets=source.secrets),
        created_at=source.created_at, updated_at=source.updated_at, last_checked_at=source.last_checked_at,
        last_check_ok=source.last_check_ok, last_check_message=source.last_check_message,
    )  # fmt: skip


@router.get("/connectors/{slug}/spec", permission="source.edit", response=ConnectorSpecOut)
def connector_spec(request: HttpRequest, slug: str) -> ConnectorSpecOut:
    """The connector's settings form (JSON schema). The first call installs the connector."""
    spec = services.connector_spec(slug=slug)
    docs = str(spec.spec.get("documentationUrl") or spec.entry["docs_url"])
    return ConnectorSpecOut(
        slug=spec.entry["slug"], name=spec.entry["name"], package=spec.entry["package"],
        version=spec.entry["version"], documentation_url=docs,
        spec=spec.schema, secret_paths=[list(p) for p in secret_paths(spec.schema)],
    )  # fmt: skip


@router.get("/sources", permission="source.view", response=list[SourceOut])
def source_list(request: HttpRequest) -> list[SourceOut]:
    return [_source_out(s) for s in selectors.source_list(org=ctx_of(request).require_org)]


@router.post("/sources/check", permission="source.edit", response=CheckOut)
def source_check_config(request: HttpRequest, payload: SourceCheckIn) -> CheckOut:
    """Check settings before saving them. A failing check is a normal answer (ok=false)."""
    ok, message = services.source_check_config(
        org=ctx_of(request).require_org, connector=payload.connector, config=payload.config,
        source_id=payload.source_id,
    )  # fmt: skip
    return CheckOut(ok=ok, message=message)


@router.get("/sources/{source_id}", permission="source.view", response=SourceOut)
def source_show(request: HttpRequest, source_id: int) -> SourceOut:
    return _source_out(selectors.source_get(org=ctx_of(request).require_org, source_id=source_id))


@router.post("/sources", permission="source.edit", response={201: SourceOut})
def source_create(request: HttpRequest, payload: SourceIn) -> Status[SourceOut]:
    ctx = ctx_of(request)
    source = services.source_create(
        org=ctx.require_org, actor=ctx.require_user, connector=payload.connector, name=payload.name,
        config=payload.config,
    )  # fmt: skip
    return Status(201, _source_out(source))


@router.put("/sources/{source_id}", permission="source.edit", response=SourceOut)
def source_update(request: HttpRequest, source_id: int, payload: SourceUpdateIn) -> SourceOut:
    ctx = ctx_of(request)
    source = services.source_update(
        org=ctx.require_org, actor=ctx.require_user, source_id=source_id, name=payload.name, config=payload.config
    )
    return _source_out(source)


@router.delete("/sources/{source_id}", permission="source.edit", response={204: None})
def source_delete(request: HttpRequest, source_id: int) -> Status[None]:
    ctx = ctx_of(request)
    services.source_delete(org=ctx.require_org, actor=ctx.require_user, source_id=source_id)
    return Status(204, None)


@router.post("/sources/{source_id}/check", permission="source.view", response=CheckOut)
def source_check(request: HttpRequest, source_id: int) -> CheckOut:
    ok, message = services.source_check(org=ctx_of(request).require_org, source_id=source_id)
    return CheckOut(ok=ok, message=message)


@router.get("/sources/{source_id}/streams", permission="source.view", response=SourceStreamsOut)
def source_streams(request: HttpRequest, source_id: int, query: Query[StreamsQuery]) -> SourceStreamsOut:
    """The streams the connector offers (its `discover`), cached until refreshed."""
    source = services.source_streams(org=ctx_of(request).require_org, source_id=source_id, refresh=query.refresh)
    return SourceStreamsOut(discovered_at=source.discovered_at, streams=[_stream_out(s) for s in source.streams])
