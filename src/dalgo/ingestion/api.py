"""Ingest: the connector catalogue, sources, connections and their syncs."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Schema, Status

from dalgo.core.api import DalgoRouter, ctx_of
from dalgo.core.errors import NotFound
from dalgo.ingestion import connections, selectors, services
from dalgo.ingestion.connectors.catalog import catalog_entry, catalog_list
from dalgo.ingestion.models import SYNC_KIND, Connection, Source
from dalgo.ingestion.secrets import secret_paths, secrets_masked
from dalgo.ingestion.state import state_streams
from dalgo.ingestion.sync import table_name
from dalgo.runs import selectors as run_selectors
from dalgo.runs import services as run_services
from dalgo.runs.schemas import LogPageOut, LogQuery, RunOut, run_log_page, run_out

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


class ConnectionRefOut(Schema):
    id: int
    name: str


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
    connections: list[ConnectionRefOut]


class SourceIn(Schema):
    connector: str
    name: str
    config: dict[str, Any] = {}
    package: str | None = None  # connector "custom": its pip requirement or local path


class SourceUpdateIn(Schema):
    name: str
    config: dict[str, Any] = {}
    package: str | None = None  # custom sources only: a new pip requirement or local path (installed on save)


class SourceCheckIn(Schema):
    connector: str
    config: dict[str, Any] = {}
    source_id: int | None = None
    package: str | None = None


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
        connector_name=entry["name"] if entry else f"Custom: {source.package}", package=source.package,
        version=source.version, config=secrets_masked(config=source.config, secrets=source.secrets),
        created_at=source.created_at, updated_at=source.updated_at, last_checked_at=source.last_checked_at,
        last_check_ok=source.last_check_ok, last_check_message=source.last_check_message,
        connections=[ConnectionRefOut(id=c.pk, name=c.name) for c in source.connections.order_by("name")],
    )  # fmt: skip


class SpecQuery(Schema):
    package: str | None = None  # for slug "custom": the pip requirement or local path


@router.get("/connectors/{slug}/spec", permission="source.edit", response=ConnectorSpecOut)
def connector_spec(request: HttpRequest, slug: str, query: Query[SpecQuery]) -> ConnectorSpecOut:
    """The connector's settings form (JSON schema). The first call installs the connector; slug
    `custom` with `?package=` installs a custom one (when the deployment allows them)."""
    spec = services.connector_spec(slug=slug, package=query.package)
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
        source_id=payload.source_id, package=payload.package,
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
        config=payload.config, package=payload.package,
    )  # fmt: skip
    return Status(201, _source_out(source))


@router.put("/sources/{source_id}", permission="source.edit", response=SourceOut)
def source_update(request: HttpRequest, source_id: int, payload: SourceUpdateIn) -> SourceOut:
    """Checks the connection before saving. A custom source's `package` may change: the new one is
    installed and the config validated against its spec; its streams are discovered again."""
    ctx = ctx_of(request)
    source = services.source_update(
        org=ctx.require_org, actor=ctx.require_user, source_id=source_id, name=payload.name, config=payload.config,
        package=payload.package,
    )  # fmt: skip
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


# ---- connections ---------------------------------------------------------------------------------

SyncModeName = Literal["full_refresh", "incremental"]
DestinationModeName = Literal["overwrite", "append", "append_dedup"]


class ConnectionStreamIn(Schema):
    name: str
    selected: bool = True
    sync_mode: SyncModeName | None = None
    destination_mode: DestinationModeName | None = None
    primary_key: list[list[str]] = []
    cursor_field: list[str] = []
    selected_columns: list[str] | None = None


class ConnectionIn(Schema):
    name: str
    source_id: int
    destination_schema: str
    streams: list[ConnectionStreamIn] | None = None  # None: every stream, with the defaults


class ConnectionUpdateIn(Schema):
    name: str
    destination_schema: str
    streams: list[ConnectionStreamIn] | None = None  # None: keep the stream config


class ConnectionStreamOut(Schema):
    name: str
    namespace: str | None
    table: str
    selected: bool
    sync_mode: SyncModeName
    destination_mode: DestinationModeName
    primary_key: list[list[str]]
    cursor_field: list[str]
    selected_columns: list[str] | None
    supported_sync_modes: list[str]
    source_defined_cursor: bool
    source_defined_primary_key: list[list[str]]
    default_cursor_field: list[str]
    columns: list[StreamColumnOut]


class StreamChangeOut(Schema):
    columns_added: list[str]
    columns_removed: list[str]
    types_changed: list[str]


class SchemaChangeOut(Schema):
    streams_added: list[str]
    streams_removed: list[str]
    streams_changed: dict[str, StreamChangeOut]
    breaking: list[str]
    detected_at: datetime | None = None


class StreamStatsOut(Schema):
    status: Literal["pending", "running", "complete", "incomplete"]
    records: int
    bytes: int
    estimate: int | None = None  # rows, when the connector sent an estimate


class SyncStatsOut(Schema):
    """A sync's progress while it runs, and its result at the end."""

    streams: dict[str, StreamStatsOut]
    records: int
    bytes: int
    seconds: float
    records_per_second: float
    checkpoints: int
    skipped_records: int = 0


class SyncRunOut(RunOut):
    progress: SyncStatsOut | None  # type: ignore[assignment]
    result: SyncStatsOut | None  # type: ignore[assignment]


def sync_run_out(run: Any) -> SyncRunOut:
    out = run_out(run).dict()
    out["progress"] = out["progress"] or None
    out["result"] = out["result"] or None
    return SyncRunOut(**out)


class ConnectionOut(Schema):
    id: int
    name: str
    source_id: int
    source_name: str
    connector_slug: str
    destination_schema: str
    streams: list[ConnectionStreamOut]
    created_at: datetime
    updated_at: datetime
    running: SyncRunOut | None
    last_sync: SyncRunOut | None
    schema_change: SchemaChangeOut | None
    schema_change_needs_approval: bool


class ClearIn(Schema):
    streams: list[str] | None = None  # None: every stream


class StateOut(Schema):
    kind: str | None
    streams: dict[str, Any]
    raw: dict[str, Any]


def _connection_out(connection: Connection) -> ConnectionOut:
    catalog = {str(s.get("name")): s for s in connection.catalog}
    streams = []
    for item in connection.streams:
        stream = _stream_out(catalog.get(item["name"]) or {"name": item["name"]})
        streams.append(
            ConnectionStreamOut(
                name=item["name"], namespace=item.get("namespace"), table=table_name(item["name"]),
                selected=bool(item.get("selected")), sync_mode=item["sync_mode"],
                destination_mode=item["destination_mode"], primary_key=item.get("primary_key") or [],
                cursor_field=item.get("cursor_field") or [], selected_columns=item.get("selected_columns"),
                supported_sync_modes=stream.supported_sync_modes, source_defined_cursor=stream.source_defined_cursor,
                source_defined_primary_key=stream.source_defined_primary_key,
                default_cursor_field=stream.default_cursor_field, columns=stream.columns,
            )
        )  # fmt: skip
    running = connection.sync_run if connection.sync_run and not connection.sync_run.is_terminal else None
    last_sync = selectors.connection_runs(org=connection.org, connection_id=connection.pk, finished=True).first()
    change = connection.schema_change or None
    return ConnectionOut(
        id=connection.pk, name=connection.name, source_id=connection.source_id, source_name=connection.source.name,
        connector_slug=connection.source.connector_slug, destination_schema=connection.destination_schema,
        streams=streams, created_at=connection.created_at, updated_at=connection.updated_at,
        running=sync_run_out(running) if running else None,
        last_sync=sync_run_out(last_sync) if last_sync else None,
        schema_change=SchemaChangeOut(**change) if change else None,
        schema_change_needs_approval=connection.schema_change_breaking,
    )  # fmt: skip


def _streams_in(streams: list[ConnectionStreamIn] | None) -> list[dict[str, Any]] | None:
    return None if streams is None else [s.dict() for s in streams]


class ConnectionListQuery(Schema):
    source_id: int | None = None


@router.get("/connections", permission="connection.view", response=list[ConnectionOut])
def connection_list(request: HttpRequest, query: Query[ConnectionListQuery]) -> list[ConnectionOut]:
    org = ctx_of(request).require_org
    return [_connection_out(c) for c in selectors.connection_list(org=org, source_id=query.source_id)]


@router.post("/connections", permission="connection.edit", response={201: ConnectionOut})
def connection_create(request: HttpRequest, payload: ConnectionIn) -> Status[ConnectionOut]:
    """Streams are validated against what each supports; leave them out for the defaults."""
    ctx = ctx_of(request)
    connection = connections.connection_create(
        org=ctx.require_org, actor=ctx.require_user, name=payload.name, source_id=payload.source_id,
        destination_schema=payload.destination_schema, streams=_streams_in(payload.streams),
    )  # fmt: skip
    return Status(201, _connection_out(connection))


@router.get("/connections/{connection_id}", permission="connection.view", response=ConnectionOut)
def connection_show(request: HttpRequest, connection_id: int) -> ConnectionOut:
    return _connection_out(selectors.connection_get(org=ctx_of(request).require_org, connection_id=connection_id))


@router.put("/connections/{connection_id}", permission="connection.edit", response=ConnectionOut)
def connection_update(request: HttpRequest, connection_id: int, payload: ConnectionUpdateIn) -> ConnectionOut:
    ctx = ctx_of(request)
    connection = connections.connection_update(
        org=ctx.require_org, actor=ctx.require_user, connection_id=connection_id, name=payload.name,
        destination_schema=payload.destination_schema, streams=_streams_in(payload.streams),
    )  # fmt: skip
    return _connection_out(connection)


@router.delete("/connections/{connection_id}", permission="connection.edit", response={204: None})
def connection_delete(request: HttpRequest, connection_id: int) -> Status[None]:
    """The connection and its history go; the tables it loaded stay in the warehouse."""
    ctx = ctx_of(request)
    connections.connection_delete(org=ctx.require_org, actor=ctx.require_user, connection_id=connection_id)
    return Status(204, None)


@router.post("/connections/{connection_id}/sync", permission="connection.sync", response={201: SyncRunOut})
def connection_sync(request: HttpRequest, connection_id: int) -> Status[SyncRunOut]:
    """Start a sync now; 409 `sync_running` (with `related.run_id`) while one runs."""
    ctx = ctx_of(request)
    run = connections.connection_sync_start(org=ctx.require_org, connection_id=connection_id, actor=ctx.require_user)
    return Status(201, sync_run_out(run))


def _sync_run(request: HttpRequest, connection_id: int, run_id: UUID) -> Any:
    org = ctx_of(request).require_org
    selectors.connection_get(org=org, connection_id=connection_id)
    run = run_selectors.run_get(org=org, run_id=run_id, kind=SYNC_KIND)
    if run.params.get("connection_id") != connection_id:
        raise NotFound("Run not found.")
    return run


@router.get("/connections/{connection_id}/syncs", permission="connection.view", response=list[SyncRunOut])
def connection_syncs(request: HttpRequest, connection_id: int) -> list[SyncRunOut]:
    """The connection's sync history, newest first."""
    org = ctx_of(request).require_org
    selectors.connection_get(org=org, connection_id=connection_id)
    return [sync_run_out(r) for r in selectors.connection_runs(org=org, connection_id=connection_id)[:100]]


@router.get("/connections/{connection_id}/syncs/{run_id}", permission="connection.view", response=SyncRunOut)
def connection_sync_show(request: HttpRequest, connection_id: int, run_id: UUID) -> SyncRunOut:
    return sync_run_out(run_services.run_refresh(run=_sync_run(request, connection_id, run_id)))


@router.get("/connections/{connection_id}/syncs/{run_id}/logs", permission="connection.view", response=LogPageOut)
def connection_sync_logs(request: HttpRequest, connection_id: int, run_id: UUID, query: Query[LogQuery]) -> LogPageOut:
    return run_log_page(run=_sync_run(request, connection_id, run_id), query=query)


@router.post("/connections/{connection_id}/syncs/{run_id}/cancel", permission="connection.sync", response=SyncRunOut)
def connection_sync_cancel(request: HttpRequest, connection_id: int, run_id: UUID) -> SyncRunOut:
    return sync_run_out(run_services.run_cancel(run=_sync_run(request, connection_id, run_id)))


@router.post("/connections/{connection_id}/clear", permission="connection.sync", response=ConnectionOut)
def connection_clear(request: HttpRequest, connection_id: int, payload: ClearIn) -> ConnectionOut:
    """Drop the chosen streams' tables (all when none are named) and forget their checkpoints."""
    ctx = ctx_of(request)
    connection = connections.connection_clear(
        org=ctx.require_org, actor=ctx.require_user, connection_id=connection_id, streams=payload.streams
    )
    return _connection_out(connection)


@router.get("/connections/{connection_id}/state", permission="connection.edit", response=StateOut)
def connection_state(request: HttpRequest, connection_id: int) -> StateOut:
    """The saved checkpoint (advanced): each stream's part, and the whole as stored."""
    connection = selectors.connection_get(org=ctx_of(request).require_org, connection_id=connection_id)
    state = connection.state or {}
    return StateOut(kind=state.get("kind"), streams=state_streams(state), raw=state)


@router.post("/connections/{connection_id}/schema/refresh", permission="connection.edit", response=ConnectionOut)
def connection_schema_refresh(request: HttpRequest, connection_id: int) -> ConnectionOut:
    """Discover the source again: non-breaking changes apply now, breaking ones wait for approval."""
    org = ctx_of(request).require_org
    connection = selectors.connection_get(org=org, connection_id=connection_id)
    connections.connection_schema_check(connection=connection)
    return _connection_out(selectors.connection_get(org=org, connection_id=connection_id))


@router.post("/connections/{connection_id}/schema/approve", permission="connection.edit", response=ConnectionOut)
def connection_schema_approve(request: HttpRequest, connection_id: int) -> ConnectionOut:
    ctx = ctx_of(request)
    connection = connections.connection_schema_approve(
        org=ctx.require_org, actor=ctx.require_user, connection_id=connection_id
    )
    return _connection_out(connection)
