"""Writes for connections: configure streams, sync (start, lock, cancel, execute), clear, schema changes.

A connection's `streams` config is validated against what each stream supports (its discovered
sync modes, source-defined cursor and primary key, columns). A sync is a Run of kind SYNC_KIND,
executed by the Prefect flow `dalgo.ingestion.flows:connection_sync`; `Connection.sync_run` is its
lock, taken with one conditional UPDATE and released by the flow, or by the next start when the
run ended or its worker stopped beating.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dalgo.accounts.models import User
from dalgo.core.audit import audit_record
from dalgo.core.errors import Conflict, DalgoError, ValidationFailed, field_error
from dalgo.ingestion.connectors.errors import ConnectorCancelled, ConnectorFailed
from dalgo.ingestion.connectors.runner import ConnectorRunner, LogCallback
from dalgo.ingestion.loader import DuckDBWriter, PostgresWriter
from dalgo.ingestion.loader import sql as loader_sql
from dalgo.ingestion.loader.writers import WarehouseWriter
from dalgo.ingestion.models import SYNC_KIND, Connection, Source
from dalgo.ingestion.protocol import ConfiguredStream, DestinationMode, State, SyncMode
from dalgo.ingestion.selectors import connection_get, source_get
from dalgo.ingestion.services import (
    name_checked,
    saved_with_audit,
    source_config,
    source_config_replace,
    source_discover,
    source_env,
    source_streams,
)
from dalgo.ingestion.state import state_apply, state_input, state_without
from dalgo.ingestion.sync import Heartbeat, SyncProgress, sync_streams, table_name
from dalgo.orgs.models import Org
from dalgo.runs.models import Run, RunStatus
from dalgo.runs.orchestrator_client import DeploymentSpec
from dalgo.runs.services import (
    run_fail_zombie,
    run_heartbeat,
    run_is_zombie,
    run_progress_set,
    run_refresh,
    run_transition,
    run_trigger,
)
from dalgo.warehouses.adapters.postgres import PostgresAdapter
from dalgo.warehouses.models import Warehouse
from dalgo.warehouses.selectors import warehouse_adapter, warehouse_find
from dalgo.warehouses.types import bigquery_settings, duckdb_path

SYNC_DEPLOYMENT = "connection-sync"
SYNC_SPEC = DeploymentSpec(
    entrypoint="dalgo.ingestion.flows:connection_sync",
    description="Reads a source's streams through its Airbyte connector into the org's warehouse.",
    tags=["dalgo", "ingestion"],
)
QUEUED_LOCK_SECONDS = 15 * 60  # a sync Prefect never started stops holding the lock after this
SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
RESERVED_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast", "public_dalgo"}


# ---- stream configuration ------------------------------------------------------------------------


def _properties(stream: dict[str, Any]) -> dict[str, Any]:
    properties = (stream.get("json_schema") or {}).get("properties") or {}
    return properties if isinstance(properties, dict) else {}


def stream_default(stream: dict[str, Any], *, selected: bool = True) -> dict[str, Any]:
    """What a mature ELT tool picks for a new stream: incremental + dedup where the source defines a
    cursor and key, else incremental append, else a full refresh that overwrites."""
    supported = [str(m) for m in stream.get("supported_sync_modes") or ["full_refresh"]]
    key = [[str(p) for p in path] for path in stream.get("source_defined_primary_key") or []]
    cursor = [str(c) for c in stream.get("default_cursor_field") or []]
    if "incremental" in supported and cursor:
        sync_mode, destination_mode = "incremental", ("append_dedup" if key else "append")
    else:
        sync_mode, destination_mode = "full_refresh", "overwrite"
    return {
        "name": str(stream.get("name")), "namespace": stream.get("namespace"), "selected": selected,
        "sync_mode": sync_mode, "destination_mode": destination_mode, "primary_key": key,
        "cursor_field": cursor if sync_mode == "incremental" else [], "selected_columns": None,
    }  # fmt: skip


def streams_configure(*, catalog: list[dict[str, Any]], requested: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The connection's stream config: every discovered stream, configured as `requested` (validated
    against what the stream supports) or by default (unselected when a request names others)."""
    by_name = {str(s.get("name")): s for s in catalog}
    fields: dict[str, str] = {}
    wanted: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(requested or []):
        name = str(item.get("name") or "") if isinstance(item, dict) else ""
        if name not in by_name:
            fields[f"streams.{index}.name"] = f"The source has no stream {name!r}."
            continue
        wanted[name] = item
    configured = []
    for name, stream in by_name.items():
        if requested is None:
            configured.append(stream_default(stream))
        elif name in wanted:
            configured.append(_stream_validated(stream, wanted[name], fields))
        else:
            configured.append(stream_default(stream, selected=False))
    if fields:
        raise ValidationFailed("Some streams are not configured correctly.", fields=fields)
    if requested is not None and not any(s["selected"] for s in configured):
        raise field_error("streams", "Select at least one stream.")
    return configured


def _stream_validated(stream: dict[str, Any], item: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    name = str(stream.get("name"))
    at = f"streams.{name}"
    result = stream_default(stream, selected=bool(item.get("selected", True)))
    columns = set(_properties(stream))
    supported = [str(m) for m in stream.get("supported_sync_modes") or ["full_refresh"]]

    sync_mode = str(item.get("sync_mode") or result["sync_mode"])
    if sync_mode not in {m.value for m in SyncMode}:
        fields[f"{at}.sync_mode"] = "Choose full_refresh or incremental."
        return result
    if sync_mode not in supported:
        fields[f"{at}.sync_mode"] = f"This stream supports only: {', '.join(supported)}."
        return result
    destination_mode = str(item.get("destination_mode") or result["destination_mode"])
    if destination_mode not in {m.value for m in DestinationMode}:
        fields[f"{at}.destination_mode"] = "Choose overwrite, append or append_dedup."
        return result
    if sync_mode == "incremental" and destination_mode == "overwrite":
        fields[f"{at}.destination_mode"] = "An incremental sync reads only new records: append or append_dedup."
        return result

    source_key = [[str(p) for p in path] for path in stream.get("source_defined_primary_key") or []]
    key = source_key or [[str(p) for p in path] for path in item.get("primary_key") or [] if path]
    if source_key and item.get("primary_key") and item["primary_key"] != source_key:
        fields[f"{at}.primary_key"] = f"The source defines the primary key: {_paths(source_key)}."
    for path in key:
        if len(path) != 1 or path[0] not in columns:
            fields[f"{at}.primary_key"] = f"{'.'.join(path)!r} is not a column of this stream."
    if destination_mode == "append_dedup" and not key:
        fields[f"{at}.primary_key"] = "Deduplication needs a primary key: choose its column(s)."

    cursor: list[str] = []
    if sync_mode == "incremental":
        default_cursor = [str(c) for c in stream.get("default_cursor_field") or []]
        if stream.get("source_defined_cursor"):
            cursor = default_cursor
            if item.get("cursor_field") and list(item["cursor_field"]) != default_cursor:
                fields[f"{at}.cursor_field"] = f"The source defines the cursor: {'.'.join(default_cursor)}."
        else:
            cursor = [str(c) for c in item.get("cursor_field") or default_cursor]
            if not cursor:
                fields[f"{at}.cursor_field"] = "An incremental sync needs a cursor column."
            elif len(cursor) != 1 or cursor[0] not in columns:
                fields[f"{at}.cursor_field"] = f"{'.'.join(cursor)!r} is not a column of this stream."

    selected_columns = item.get("selected_columns")
    if selected_columns is not None:
        unknown = [c for c in selected_columns if c not in columns]
        if unknown:
            fields[f"{at}.selected_columns"] = f"Not columns of this stream: {', '.join(map(str, unknown))}."
        required = [p[0] for p in key] + cursor
        selected_columns = list(dict.fromkeys([*required, *map(str, selected_columns)]))
    result.update(
        sync_mode=sync_mode, destination_mode=destination_mode, primary_key=key, cursor_field=cursor,
        selected_columns=selected_columns,
    )  # fmt: skip
    return result


def _paths(paths: list[list[str]]) -> str:
    return ", ".join(".".join(p) for p in paths)


def configured_streams(connection: Connection) -> list[ConfiguredStream]:
    """The selected streams as the connector and the loader get them."""
    catalog = {str(s.get("name")): s for s in connection.catalog}
    configured = []
    for item in connection.streams:
        stream = catalog.get(item["name"])
        if not item.get("selected") or stream is None:
            continue
        configured.append(
            ConfiguredStream(
                name=item["name"], json_schema=stream.get("json_schema") or {},
                sync_mode=SyncMode(item["sync_mode"]), destination_mode=DestinationMode(item["destination_mode"]),
                primary_key=tuple(tuple(p) for p in item.get("primary_key") or []),
                cursor_field=tuple(item.get("cursor_field") or []),
                selected_columns=tuple(item["selected_columns"]) if item.get("selected_columns") else None,
                namespace=stream.get("namespace"), destination_table=table_name(item["name"]),
            )
        )  # fmt: skip
    return configured


# ---- create / update / delete --------------------------------------------------------------------


def _schema(schema: str) -> str:
    schema = (schema or "").strip()
    if not SCHEMA_RE.fullmatch(schema):
        raise field_error(
            "destination_schema",
            "Use lower-case letters, digits and underscores, starting with a letter (at most 63 characters).",
        )
    if schema in RESERVED_SCHEMAS or schema.startswith("pg_"):
        raise field_error("destination_schema", f"{schema!r} is reserved by the warehouse.")
    return schema


def _require_warehouse(org: Org) -> Warehouse:
    warehouse = warehouse_find(org=org)
    if warehouse is None:
        raise ValidationFailed("Set up the organisation's warehouse first: syncs load into it.", code="no_warehouse")
    return warehouse


def _snapshot(connection: Connection) -> dict[str, Any]:
    selected = [s["name"] for s in connection.streams if s.get("selected")]
    return {"name": connection.name, "source": connection.source.name,
            "destination_schema": connection.destination_schema, "streams": selected}  # fmt: skip


def _save(connection: Connection, *, actor: User, action: str, before: dict[str, Any] | None = None) -> Connection:
    saved_with_audit(connection, actor=actor, action=action, before=before, after=_snapshot(connection))
    return connection


def connection_create(
    *,
    org: Org,
    actor: User,
    name: str,
    source_id: int,
    destination_schema: str,
    streams: list[dict[str, Any]] | None,
) -> Connection:
    _require_warehouse(org)
    name = name_checked(name, model=Connection, org=org)
    schema = _schema(destination_schema)
    source = source_streams(org=org, source_id=source_id)  # discovers on first use
    configured = streams_configure(catalog=source.streams, requested=streams)
    connection = Connection(org=org, name=name, source=source, destination_schema=schema, streams=configured,
                            catalog=copy.deepcopy(source.streams), created_by=actor)  # fmt: skip
    return _save(connection, actor=actor, action="connection.create")


def _refuse_while_syncing(connection: Connection, doing: str) -> None:
    run = _lock_holder(connection)
    if run is not None:
        raise Conflict(f"A sync of this connection is running: wait for it or cancel it before you {doing}.",
                       code="sync_running", related={"run_id": str(run.id)})  # fmt: skip


def connection_update(
    *,
    org: Org,
    actor: User,
    connection_id: int,
    name: str,
    destination_schema: str,
    streams: list[dict[str, Any]] | None,
) -> Connection:
    """Rename, move to another schema (its state starts over), or reconfigure streams (a stream whose
    key, cursor or mode changed is read in full next time)."""
    connection = connection_get(org=org, connection_id=connection_id)
    _refuse_while_syncing(connection, "change it")
    before = _snapshot(connection)
    name = name_checked(name, model=Connection, org=org, exclude_id=connection.pk)
    schema = _schema(destination_schema)
    configured = streams_configure(catalog=connection.catalog, requested=streams) if streams is not None else None
    if schema != connection.destination_schema:
        connection.state = state_without(connection.state, None)
    elif configured is not None:
        old = {s["name"]: s for s in connection.streams}
        changed = {
            s["name"] for s in configured
            if s["name"] in old and any(s[k] != old[s["name"]].get(k) for k in
                                        ("sync_mode", "destination_mode", "primary_key", "cursor_field"))
        }  # fmt: skip
        connection.state = state_without(connection.state, changed) if changed else connection.state
    connection.name, connection.destination_schema = name, schema
    if configured is not None:
        connection.streams = configured
    return _save(connection, actor=actor, action="connection.update", before=before)


def connection_delete(*, org: Org, actor: User, connection_id: int) -> None:
    """Removes the connection and its history; the tables it loaded stay in the warehouse."""
    connection = connection_get(org=org, connection_id=connection_id)
    _refuse_while_syncing(connection, "delete it")
    with transaction.atomic():
        audit_record(action="connection.delete", actor=actor, org=org, target_type="connection",
                     target_id=connection.pk, target_label=connection.name, before=_snapshot(connection))  # fmt: skip
        connection.delete()


# ---- the lock and starting a sync ----------------------------------------------------------------


def _lock_holder(connection: Connection) -> Run | None:
    """The run holding the connection's lock, after releasing a lock whose run ended, was never
    started by Prefect, or whose worker stopped beating."""
    if connection.sync_run_id is None:
        return None
    run = Run.objects.filter(pk=connection.sync_run_id).first()
    if run is not None and not run.is_terminal:
        if run_is_zombie(run=run):
            run = run_fail_zombie(run=run)
        elif run.status == RunStatus.QUEUED:
            run = run_refresh(run=run)
            if not run.is_terminal and (timezone.now() - run.created_at).total_seconds() > QUEUED_LOCK_SECONDS:
                run = run_transition(run_id=run.id, to=RunStatus.FAILED,
                                     error="The sync was never started by a worker.")  # fmt: skip
    if run is None or run.is_terminal:
        Connection.objects.filter(pk=connection.pk, sync_run_id=connection.sync_run_id).update(sync_run=None)
        connection.sync_run = None
        return None
    return run


def connection_sync_start(*, org: Org, connection_id: int, actor: User | None) -> Run:
    """Start a sync now. A second start while one runs answers 409 with the running sync's id."""
    connection = connection_get(org=org, connection_id=connection_id)
    _require_warehouse(org)
    if connection.schema_change_breaking:
        raise Conflict("The source's schema changed in a way that needs an admin's review before the next sync.",
                       code="schema_change_pending")  # fmt: skip
    if not any(s.get("selected") for s in connection.streams):
        raise ValidationFailed("Select at least one stream to sync.", code="no_streams")
    holder = _lock_holder(connection)
    run = Run.objects.create(org=org, kind=SYNC_KIND, deployment=SYNC_DEPLOYMENT, created_by=actor,
                             params={"connection_id": connection.pk})  # fmt: skip
    taken = 0
    if holder is None:
        taken = Connection.objects.filter(pk=connection.pk, sync_run__isnull=True).update(sync_run=run)
    if not taken:
        run.delete()
        current = holder or _lock_holder(connection_get(org=org, connection_id=connection_id))
        raise Conflict("A sync of this connection is already running.", code="sync_running",
                       related={"run_id": str(current.id)} if current else {})  # fmt: skip
    audit_record(action="connection.sync", actor=actor, org=org, target_type="connection", target_id=connection.pk,
                 target_label=connection.name, after={"run_id": str(run.id)})  # fmt: skip
    try:
        return run_trigger(run=run, spec=SYNC_SPEC)
    except DalgoError:
        Connection.objects.filter(pk=connection.pk, sync_run=run).update(sync_run=None)
        raise


# ---- clear (reset) -------------------------------------------------------------------------------


def connection_clear(*, org: Org, actor: User, connection_id: int, streams: list[str] | None) -> Connection:
    """Drop the tables of the chosen streams (all when None) and forget their checkpoints: the next
    sync reads them from the start."""
    connection = connection_get(org=org, connection_id=connection_id)
    _refuse_while_syncing(connection, "clear it")
    known = {s["name"] for s in connection.streams}
    if streams is not None:
        unknown = [s for s in streams if s not in known]
        if unknown:
            raise field_error("streams", f"Not streams of this connection: {', '.join(unknown)}.")
    names = set(streams) if streams is not None else known
    writer = warehouse_writer(_require_warehouse(org))
    try:
        for name in sorted(names):
            table = table_name(name)
            writer.execute(loader_sql.drop_table(connection.destination_schema, table, dialect=writer.dialect))
        writer.commit()
    finally:
        writer.close()
    connection.state = state_without(connection.state, None if streams is None else names)
    Connection.objects.filter(pk=connection.pk).update(state=connection.state)
    audit_record(action="connection.clear", actor=actor, org=org, target_type="connection", target_id=connection.pk,
                 target_label=connection.name, after={"streams": sorted(names)})  # fmt: skip
    return connection


# ---- schema changes ------------------------------------------------------------------------------


def catalog_diff(old: list[dict[str, Any]], new: list[dict[str, Any]], config: list[dict[str, Any]]) -> dict[str, Any]:
    """What changed between two discoveries, and which changes break the selected streams' config
    (a selected stream gone, its primary key or cursor column gone)."""
    before = {str(s.get("name")): s for s in old}
    after = {str(s.get("name")): s for s in new}
    chosen = {s["name"]: s for s in config if s.get("selected")}
    diff: dict[str, Any] = {"streams_added": sorted(set(after) - set(before)),
                            "streams_removed": sorted(set(before) - set(after)), "streams_changed": {},
                            "breaking": []}  # fmt: skip
    for name in diff["streams_removed"]:
        if name in chosen:
            diff["breaking"].append(f"Stream {name!r} is no longer offered by the source.")
    for name in sorted(set(before) & set(after)):
        old_columns, new_columns = _properties(before[name]), _properties(after[name])
        change = {
            "columns_added": sorted(set(new_columns) - set(old_columns)),
            "columns_removed": sorted(set(old_columns) - set(new_columns)),
            "types_changed": sorted(c for c in set(old_columns) & set(new_columns)
                                    if _type_of(old_columns[c]) != _type_of(new_columns[c])),
        }  # fmt: skip
        if any(change.values()):
            diff["streams_changed"][name] = change
        if name in chosen:
            stream = chosen[name]
            for path in stream.get("primary_key") or []:
                if path and path[0] in change["columns_removed"]:
                    diff["breaking"].append(f"Stream {name!r}: primary key column {path[0]!r} is gone.")
            for column in (stream.get("cursor_field") or [])[:1]:
                if column in change["columns_removed"]:
                    diff["breaking"].append(f"Stream {name!r}: cursor column {column!r} is gone.")
    return diff


def _type_of(prop: Any) -> Any:
    if not isinstance(prop, dict):
        return None
    kind = prop.get("type")
    types = sorted(t for t in (kind if isinstance(kind, list) else [kind]) if t and t != "null")
    return (types, prop.get("format"))


def _diff_is_empty(diff: dict[str, Any]) -> bool:
    return not (diff["streams_added"] or diff["streams_removed"] or diff["streams_changed"])


def connection_schema_check(*, connection: Connection, catalog: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Discover the source again and compare. Non-breaking changes apply at once (new streams come
    unselected, new columns load from the next sync, removed ones stay as NULL); breaking ones wait
    for `connection_schema_approve`. Returns the diff."""
    catalog = catalog if catalog is not None else source_discover(connection.source)
    diff = catalog_diff(connection.catalog, catalog, connection.streams)
    if _diff_is_empty(diff):
        return diff
    diff["detected_at"] = timezone.now().isoformat()
    Source.objects.filter(pk=connection.source_id).update(streams=catalog, discovered_at=timezone.now())
    if diff["breaking"]:
        connection.schema_change, connection.schema_change_breaking = diff, True
        Connection.objects.filter(pk=connection.pk).update(schema_change=diff, schema_change_breaking=True)
        return diff
    _apply_catalog(connection, catalog)
    connection.schema_change, connection.schema_change_breaking = diff, False
    Connection.objects.filter(pk=connection.pk).update(
        catalog=connection.catalog, streams=connection.streams, schema_change=diff, schema_change_breaking=False
    )
    return diff


def _apply_catalog(connection: Connection, catalog: list[dict[str, Any]]) -> set[str]:
    """Adopt a new catalog: keep each stream's config where it still fits, default (and reset) the
    streams whose config broke, add new streams unselected. Returns the reset streams."""
    old = {s["name"]: s for s in connection.streams}
    configured, reset = [], set()
    for stream in catalog:
        name = str(stream.get("name"))
        if name not in old:
            configured.append(stream_default(stream, selected=False))
            continue
        fields: dict[str, str] = {}
        item = _stream_validated(stream, old[name], fields)
        if fields:
            item = stream_default(stream, selected=bool(old[name].get("selected")))
            reset.add(name)
        configured.append(item)
    connection.catalog, connection.streams = copy.deepcopy(catalog), configured
    if reset:
        connection.state = state_without(connection.state, reset)
    return reset


def connection_schema_approve(*, org: Org, actor: User, connection_id: int) -> Connection:
    """Accept the pending breaking change: streams that are gone are dropped from the config, streams
    whose key or cursor is gone get the default config and are read again in full."""
    connection = connection_get(org=org, connection_id=connection_id)
    _refuse_while_syncing(connection, "apply the change")
    if not connection.schema_change_breaking:
        raise Conflict("There is no schema change waiting for approval.", code="no_schema_change")
    catalog = source_get(org=org, source_id=connection.source_id).streams
    reset = _apply_catalog(connection, catalog)
    connection.schema_change_breaking = False
    connection.save(update_fields=["catalog", "streams", "state", "schema_change_breaking", "updated_at"])
    audit_record(action="connection.schema_approve", actor=actor, org=org, target_type="connection",
                 target_id=connection.pk, target_label=connection.name,
                 after={"diff": connection.schema_change, "reset_streams": sorted(reset)})  # fmt: skip
    return connection


# ---- running a sync (inside the flow) ------------------------------------------------------------


class SyncStopped(Exception):
    """The sync could not run; the message is for people."""


def warehouse_writer(warehouse: Warehouse) -> WarehouseWriter:
    """The loader's writer for the org's warehouse, from the settings the warehouse's adapter uses."""
    if warehouse.type == "duckdb":
        return DuckDBWriter(duckdb_path(warehouse.org_id))
    if warehouse.type == "postgres":
        adapter = warehouse_adapter(warehouse=warehouse)
        assert isinstance(adapter, PostgresAdapter)
        return PostgresWriter(**adapter.psycopg_params())
    if warehouse.type == "bigquery":
        from dalgo.ingestion.loader import BigQueryWriter

        return BigQueryWriter(**bigquery_settings(config=warehouse.config, secrets=warehouse.secrets))
    raise ValidationFailed(f"Syncing into {warehouse.type} is not supported.", code="not_supported")


def connection_sync_execute(*, run_id: str, log: LogCallback) -> dict[str, Any]:
    """Run a sync Run to its end: RUNNING, then SUCCEEDED with the stats, or FAILED / CANCELLED with
    the reason. Always releases the lock. Returns the run's result."""
    run = Run.objects.select_related("org").get(pk=run_id)
    if run.is_terminal:
        return run.result or {}
    connection = Connection.objects.select_related("source", "org").get(pk=run.params["connection_id"], org=run.org)
    run_transition(run_id=run_id, to=RunStatus.RUNNING)
    run_heartbeat(run_id=run_id)
    runner_box: list[ConnectorRunner] = []

    def cancel() -> None:
        for runner in runner_box:
            runner.cancel()

    heartbeat = Heartbeat(beat=lambda: run_heartbeat(run_id=run_id), on_cancel=cancel)
    try:
        with heartbeat.running():
            result = _sync(connection=connection, run_id=run_id, log=log, runner_box=runner_box)
        run_transition(run_id=run_id, to=RunStatus.SUCCEEDED, result=result)
        log("INFO", f"Sync finished: {result['records']:,} records in {result['seconds']:.1f} s.")
        return result
    except (ConnectorCancelled, KeyboardInterrupt):
        run_transition(run_id=run_id, to=RunStatus.CANCELLED, error="The sync was cancelled.")
        log("WARN", "The sync was cancelled; tables keep what was committed before.")
        raise
    except Exception as exc:
        message = _failure_message(exc)
        run_transition(run_id=run_id, to=RunStatus.FAILED, error=message)
        log("ERROR", message)
        raise SyncStopped(message) from exc
    finally:
        Connection.objects.filter(pk=connection.pk, sync_run_id=run.pk).update(sync_run=None)


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, ConnectorFailed):
        return f"The connector failed: {exc.detail}"
    if isinstance(exc, DalgoError | SyncStopped):
        return str(getattr(exc, "detail", exc))
    return f"The sync stopped: {type(exc).__name__}: {str(exc)[:1000]}"


def _sync(
    *, connection: Connection, run_id: str, log: LogCallback, runner_box: list[ConnectorRunner]
) -> dict[str, Any]:
    source = connection.source
    warehouse = warehouse_find(org=connection.org)
    if warehouse is None:
        raise SyncStopped("The organisation has no warehouse to load into.")
    log("INFO", f"Preparing the connector {source.package} {source.version}".strip())
    runner = ConnectorRunner(source_env(source))
    runner_box.append(runner)
    spec = runner.spec()
    config = source_config(source)

    diff = connection_schema_check(connection=connection)
    if not _diff_is_empty(diff):
        log("INFO", f"The source's schema changed: {_diff_summary(diff)}")
    if connection.schema_change_breaking:
        raise SyncStopped("The source's schema changed in a way that needs an admin's review: "
                          + " ".join(diff["breaking"]))  # fmt: skip
    streams = configured_streams(connection)
    if not streams:
        raise SyncStopped("No stream is selected.")
    log("INFO", f"Syncing {len(streams)} stream(s) into {warehouse.type}:{connection.destination_schema}: "
        + ", ".join(f"{s.name} ({s.sync_mode.value}, {s.destination_mode.value})" for s in streams))  # fmt: skip

    saved = {"state": connection.state}

    def on_state(state: State) -> None:  # the loader has committed every record before it
        saved["state"] = state_apply(saved["state"], state)
        Connection.objects.filter(pk=connection.pk).update(state=saved["state"])

    def on_progress(progress: SyncProgress) -> None:
        run_progress_set(run_id=run_id, progress=progress.as_dict())

    def on_config(new_config: dict[str, Any]) -> None:
        source_config_replace(source=source, config=new_config, schema=spec.get("connectionSpecification") or {})
        log("INFO", "Saved the configuration the connector updated.")

    incremental = {s.name for s in streams if s.sync_mode == SyncMode.INCREMENTAL}
    writer = warehouse_writer(warehouse)
    try:
        stats, progress = sync_streams(
            runner=runner, config=config, streams=streams, state=state_input(connection.state, incremental),
            writer=writer, schema=connection.destination_schema, on_state=on_state, log=log,
            timeout_seconds=settings.DALGO_SYNC_TIMEOUT, on_progress=on_progress, on_config=on_config,
            run_id=run_id.replace("-", "")[:12], checkpoint_seconds=settings.DALGO_SYNC_CHECKPOINT_SECONDS,
        )  # fmt: skip
    finally:
        writer.close()
    result = progress.as_dict()
    result["skipped_records"] = stats.skipped_records
    return result


def _diff_summary(diff: dict[str, Any]) -> str:
    parts = []
    if diff["streams_added"]:
        parts.append(f"new streams {', '.join(diff['streams_added'])}")
    if diff["streams_removed"]:
        parts.append(f"streams gone {', '.join(diff['streams_removed'])}")
    for name, change in diff["streams_changed"].items():
        bits = [f"+{c}" for c in change["columns_added"]] + [f"-{c}" for c in change["columns_removed"]]
        bits += [f"~{c}" for c in change["types_changed"]]
        parts.append(f"{name}: {' '.join(bits)}")
    return "; ".join(parts)


def connections_schema_check_all(*, log: Callable[[str], None] | None = None) -> int:
    """The daily job: look for schema changes on every connection that is not syncing. Returns how
    many connections changed."""
    changed = 0
    for connection in Connection.objects.select_related("source", "org").filter(sync_run__isnull=True):
        try:
            if not _diff_is_empty(connection_schema_check(connection=connection)):
                changed += 1
        except (ConnectorFailed, DalgoError) as exc:
            if log is not None:
                log(f"{connection.org.slug}/{connection.name}: {exc}")
    return changed
