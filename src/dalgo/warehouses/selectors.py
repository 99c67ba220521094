"""Reads: the org's warehouse, its catalog (cached per org), previews, CSV export, statistics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from dalgo.core.errors import NotFound
from dalgo.core.streaming import rechunk
from dalgo.orgs.models import Org
from dalgo.warehouses.adapters.base import Catalog, Column, Table, WarehouseAdapter
from dalgo.warehouses.models import TableStatistics, Warehouse
from dalgo.warehouses.sql import SqlBuilder
from dalgo.warehouses.types import adapter_build
from dalgo.warehouses.values import json_safe

CATALOG_TTL_SECONDS = 3600
PREVIEW_MAX_LIMIT = 1000
EXPORT_TIMEOUT_SECONDS = 3600


def warehouse_get(*, org: Org) -> Warehouse:
    warehouse = Warehouse.objects.for_org(org).first()
    if warehouse is None:
        raise NotFound("This organisation has no warehouse yet.", code="no_warehouse")
    return warehouse


def warehouse_find(*, org: Org) -> Warehouse | None:
    return Warehouse.objects.for_org(org).first()


def warehouse_adapter(*, warehouse: Warehouse) -> WarehouseAdapter:
    return adapter_build(
        warehouse_type=warehouse.type, config=warehouse.config, secrets=warehouse.secrets, org_id=warehouse.org_id
    )


def _catalog_key(warehouse: Warehouse) -> str:
    return f"dalgo:catalog:{warehouse.org_id}:{warehouse.pk}:{warehouse.updated_at.timestamp()}"


def catalog_get(*, warehouse: Warehouse, refresh: bool = False) -> Catalog:
    """The introspected catalog, cached per org until refreshed or the warehouse changes."""
    key = _catalog_key(warehouse)
    if not refresh:
        cached = cache.get(key)
        if isinstance(cached, Catalog):
            return cached
    catalog = warehouse_adapter(warehouse=warehouse).catalog()
    cache.set(key, catalog, timeout=CATALOG_TTL_SECONDS)
    return catalog


def catalog_forget(*, warehouse: Warehouse) -> None:
    cache.delete(_catalog_key(warehouse))


@dataclass
class Explorer:
    """One table of the org's warehouse, with a builder checked against its catalog."""

    warehouse: Warehouse
    adapter: WarehouseAdapter
    catalog: Catalog
    table: Table

    @property
    def builder(self) -> SqlBuilder:
        return SqlBuilder(dialect=self.adapter.dialect, catalog=self.catalog)

    @property
    def timeout(self) -> float:
        return float(settings.DALGO_WAREHOUSE_QUERY_TIMEOUT)


def explorer_for(*, org: Org, schema: str, table: str) -> Explorer:
    warehouse = warehouse_get(org=org)
    catalog = catalog_get(warehouse=warehouse)
    try:
        found = catalog.table(schema, table)
    except NotFound:
        catalog = catalog_get(warehouse=warehouse, refresh=True)  # created since the last look?
        found = catalog.table(schema, table)
    return Explorer(warehouse=warehouse, adapter=warehouse_adapter(warehouse=warehouse), catalog=catalog, table=found)


def columns_out(columns: tuple[Column, ...]) -> list[dict[str, str]]:
    return [{"name": c.name, "type": c.type, "kind": c.kind.value} for c in columns]


def table_row_count(*, explorer: Explorer) -> int:
    sql = explorer.builder.count(schema=explorer.table.schema, table=explorer.table.name)
    result = explorer.adapter.query(sql, timeout_seconds=explorer.timeout, max_rows=1)
    return int(result.rows[0][0])


def table_preview(*, explorer: Explorer, limit: int, offset: int, sort: str | None, direction: str) -> dict[str, Any]:
    sort_by = [(sort, direction)] if sort else []
    sql = explorer.builder.preview(
        schema=explorer.table.schema, table=explorer.table.name, sort=sort_by, limit=limit, offset=offset
    )
    result = explorer.adapter.query(sql, timeout_seconds=explorer.timeout, max_rows=limit)
    return {
        "columns": columns_out(explorer.table.columns),
        "rows": [[json_safe(v) for v in row] for row in result.rows],
        "total_rows": table_row_count(explorer=explorer),
        "limit": limit,
        "offset": offset,
    }


def table_csv(*, explorer: Explorer) -> Iterator[bytes]:
    """The whole table as CSV, written by the warehouse and streamed chunk by chunk (constant memory)."""
    sql = explorer.builder.select_all(schema=explorer.table.schema, table=explorer.table.name)
    yield "\ufeff".encode()  # BOM: Excel reads the UTF-8 right
    yield from rechunk(explorer.adapter.export_csv(sql, timeout_seconds=EXPORT_TIMEOUT_SECONDS))


def statistics_get(*, org: Org, schema: str, table: str) -> TableStatistics:
    warehouse = warehouse_get(org=org)
    stats = (
        TableStatistics.objects.for_org(org).filter(warehouse=warehouse, schema_name=schema, table_name=table).first()
    )
    if stats is None:
        raise NotFound("No statistics have been computed for this table yet.", code="no_statistics")
    return stats
