"""Writes: set up, test, change and delete the org's warehouse; compute table statistics."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from dalgo.accounts.models import User
from dalgo.core.audit import audit_record
from dalgo.core.errors import DalgoError, ValidationFailed, field_error
from dalgo.orgs.models import Org
from dalgo.warehouses.adapters.base import WarehouseError
from dalgo.warehouses.models import StatisticsStatus, TableStatistics, Warehouse
from dalgo.warehouses.selectors import catalog_forget, explorer_for, warehouse_find, warehouse_get
from dalgo.warehouses.types import MASK, adapter_build, config_validate, duckdb_path, type_spec
from dalgo.warehouses.values import json_safe

STAT_NAMES = {"true": "true_count", "false": "false_count"}


@dataclass
class TestOutcome:
    ok: bool
    code: str
    message: str
    fields: dict[str, str]


def _split_config(
    *, warehouse_type: str, config: dict[str, Any], existing: Warehouse | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate; separate secret fields; a masked or missing secret keeps the stored one."""
    spec = type_spec(warehouse_type)
    stored = existing.secrets if existing is not None and existing.type == warehouse_type else {}
    incoming = dict(config)
    secrets: dict[str, Any] = {}
    for name in spec.secret_fields:
        value = incoming.pop(name, None)
        if value in (None, "", MASK):
            if name in stored:
                secrets[name] = stored[name]
        else:
            secrets[name] = value
    public = config_validate(warehouse_type=warehouse_type, config={**incoming, **secrets})
    for name in spec.secret_fields:
        public.pop(name, None)
    return public, secrets


def _test(*, org: Org, warehouse_type: str, config: dict[str, Any], secrets: dict[str, Any]) -> TestOutcome:
    try:
        adapter = adapter_build(warehouse_type=warehouse_type, config=config, secrets=secrets, org_id=org.pk)
        message = adapter.test()
    except WarehouseError as exc:
        return TestOutcome(ok=False, code=exc.code, message=exc.detail, fields=exc.fields)
    except ValidationFailed as exc:
        return TestOutcome(ok=False, code=exc.code, message=exc.detail, fields=exc.fields)
    return TestOutcome(ok=True, code="ok", message=message, fields={})


def warehouse_test(*, org: Org, warehouse_type: str, config: dict[str, Any]) -> TestOutcome:
    """Test settings before saving them (secrets left masked use the stored ones)."""
    public, secrets = _split_config(warehouse_type=warehouse_type, config=config, existing=warehouse_find(org=org))
    return _test(org=org, warehouse_type=warehouse_type, config=public, secrets=secrets)


def _describe(warehouse: Warehouse) -> dict[str, Any]:
    return {"type": warehouse.type, "name": warehouse.name, "config": warehouse.config,
            "secrets_set": sorted(warehouse.secrets)}  # fmt: skip


def warehouse_save(*, org: Org, actor: User, warehouse_type: str, name: str, config: dict[str, Any]) -> Warehouse:
    """Test the settings live, then create or replace the org's warehouse."""
    name = (name or "").strip()
    if not name:
        raise field_error("name", "Give the warehouse a name.")
    if len(name) > 100:
        raise field_error("name", "The name is longer than 100 characters.")
    existing = warehouse_find(org=org)
    public, secrets = _split_config(warehouse_type=warehouse_type, config=config, existing=existing)
    outcome = _test(org=org, warehouse_type=warehouse_type, config=public, secrets=secrets)
    if not outcome.ok:
        raise WarehouseError(outcome.message, code=outcome.code, fields=outcome.fields)
    with transaction.atomic():
        warehouse = Warehouse.objects.select_for_update().for_org(org).first()
        before = _describe(warehouse) if warehouse else None
        if warehouse is None:
            warehouse = Warehouse(org=org, created_by=actor)
        warehouse.type, warehouse.name, warehouse.config, warehouse.secrets = warehouse_type, name, public, secrets
        warehouse.last_tested_at, warehouse.last_test_ok, warehouse.last_test_message = (
            timezone.now(), True, outcome.message,
        )  # fmt: skip
        warehouse.save()
        audit_record(action="warehouse.save", actor=actor, org=org, target_type="warehouse", target_id=warehouse.pk,
                     target_label=name, before=before, after=_describe(warehouse))  # fmt: skip
    return warehouse


def warehouse_check(*, org: Org) -> TestOutcome:
    """Test the saved warehouse now and remember the outcome."""
    warehouse = warehouse_get(org=org)
    outcome = _test(org=org, warehouse_type=warehouse.type, config=warehouse.config, secrets=warehouse.secrets)
    Warehouse.objects.filter(pk=warehouse.pk).update(
        last_tested_at=timezone.now(), last_test_ok=outcome.ok, last_test_message=outcome.message
    )
    return outcome


def warehouse_dependents(*, org: Org) -> list[dict[str, str]]:
    """What stops working without the warehouse. Later features (connections, models, charts) add theirs."""
    warehouse = warehouse_get(org=org)
    dependents = [{"kind": "statistics", "name": f"{s.schema_name}.{s.table_name}"} for s in warehouse.statistics.all()]
    return dependents


def warehouse_delete(*, org: Org, actor: User, confirm: str) -> None:
    """Forget the warehouse. A managed DuckDB file is kept aside (renamed), never destroyed."""
    warehouse = warehouse_get(org=org)
    if confirm != warehouse.name:
        raise field_error("confirm", f"Type the warehouse's name ({warehouse.name}) to confirm.", code="confirm")
    with transaction.atomic():
        before = _describe(warehouse)
        warehouse.delete()
        audit_record(action="warehouse.delete", actor=actor, org=org, target_type="warehouse",
                     target_id=before["name"], target_label=warehouse.name, before=before)  # fmt: skip
    catalog_forget(warehouse=warehouse)
    if warehouse.type == "duckdb":
        path = duckdb_path(org.pk)
        if path.exists():
            shutil.move(path, path.with_name(f"{path.stem}.deleted-{timezone.now():%Y%m%dT%H%M%S}{path.suffix}"))


def statistics_start(*, org: Org, actor: User, schema: str, table: str) -> TableStatistics:
    """Queue the statistics of one table (a background job); the latest request wins."""
    from dalgo.warehouses.tasks import table_statistics_compute

    explorer = explorer_for(org=org, schema=schema, table=table)
    with transaction.atomic():
        stats, _ = TableStatistics.objects.update_or_create(
            org=org, warehouse=explorer.warehouse, schema_name=schema, table_name=table,
            defaults={"status": StatisticsStatus.QUEUED, "progress": {"done": 0, "total": 0, "current": ""},
                      "error": "", "requested_by": actor},
        )  # fmt: skip
        transaction.on_commit(lambda: table_statistics_compute.delay(stats_id=stats.pk))
    return stats


def statistics_compute(*, stats_id: int) -> None:
    """Compute in the warehouse: one aggregate query for all columns, then one query per column for
    top values or a histogram. Progress is saved after each query."""
    stats = TableStatistics.objects.select_related("org").get(pk=stats_id)
    total = 0
    try:
        explorer = explorer_for(org=stats.org, schema=stats.schema_name, table=stats.table_name)
        detail_columns = [c for c in explorer.table.columns if c.kind.value in ("number", "text", "date", "datetime")]
        total = 1 + len(detail_columns)
        _progress(stats, status=StatisticsStatus.RUNNING, done=0, total=total, current="profile")
        with explorer.adapter.session():
            _statistics_queries(stats, explorer=explorer, total=total, detail_columns=detail_columns)
    except DalgoError as exc:
        _fail(stats, exc.detail)
    except Exception as exc:
        _fail(stats, f"Statistics could not be computed ({type(exc).__name__}).")
        raise


def _statistics_queries(stats: TableStatistics, *, explorer: Any, total: int, detail_columns: list[Any]) -> None:
    """Every query of one table's statistics, on one warehouse session."""
    builder, table = explorer.builder, explorer.table
    columns = list(table.columns)
    sql = builder.column_profile(schema=table.schema, table=table.name, columns=columns)
    result = explorer.adapter.query(sql, timeout_seconds=explorer.timeout, max_rows=1)
    profile = builder.parse_column_profile(columns=columns, result_columns=result.columns, row=result.rows[0])
    row_count = int(result.rows[0][0] or 0)
    out = []
    for column in columns:
        stats_of = {STAT_NAMES.get(k, k): v for k, v in profile.get(column.name, {}).items()}
        out.append({"name": column.name, "type": column.type, "kind": column.kind.value,
                    **stats_of, "top_values": None, "histogram": None})  # fmt: skip
    by_name = {c["name"]: c for c in out}
    for done, column in enumerate(detail_columns, start=1):
        _progress(stats, status=StatisticsStatus.RUNNING, done=done, total=total, current=column.name)
        entry = by_name[column.name]
        entry.update(_column_detail(explorer=explorer, column=column, entry=entry))
    stats.result = json_safe({"row_count": row_count, "columns": out})
    stats.status, stats.error, stats.computed_at = StatisticsStatus.SUCCEEDED, "", timezone.now()
    stats.progress = {"done": total, "total": total, "current": ""}
    stats.save(update_fields=["result", "status", "error", "computed_at", "progress"])


def _column_detail(*, explorer: Any, column: Any, entry: dict[str, Any]) -> dict[str, Any]:
    builder, table, timeout = explorer.builder, explorer.table, explorer.timeout
    kind = column.kind.value
    if kind == "text":
        sql = builder.top_values(schema=table.schema, table=table.name, column=column.name, limit=10)
        rows = explorer.adapter.query(sql, timeout_seconds=timeout, max_rows=10).rows
        return {"top_values": [{"value": r[0], "count": int(r[1])} for r in rows]}
    if kind in ("date", "datetime"):
        sql = builder.date_histogram(schema=table.schema, table=table.name, column=column.name)
        rows = explorer.adapter.query(sql, timeout_seconds=timeout, max_rows=5000).rows
        return {"histogram": [{"bucket": str(r[0])[:7], "count": int(r[1])} for r in rows]}
    low, high = entry.get("min"), entry.get("max")
    if low is None or high is None:
        return {}
    bins = 20
    sql = builder.numeric_histogram(
        schema=table.schema, table=table.name, column=column.name, bins=bins, low=float(low), high=float(high)
    )
    counts = dict(explorer.adapter.query(sql, timeout_seconds=timeout, max_rows=bins + 1).rows)
    width = (float(high) - float(low)) / bins or 1.0
    return {
        "histogram": [
            {"bucket": f"{float(low) + i * width:.4g}", "count": int(counts.get(i, 0))}
            for i in range(bins if float(high) > float(low) else 1)
        ]
    }


def _progress(stats: TableStatistics, *, status: str, done: int, total: int, current: str) -> None:
    stats.status = status
    stats.progress = {"done": done, "total": total, "current": current}
    stats.save(update_fields=["status", "progress"])


def _fail(stats: TableStatistics, message: str) -> None:
    stats.status, stats.error = StatisticsStatus.FAILED, message
    stats.save(update_fields=["status", "error"])
