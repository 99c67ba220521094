"""Warehouse settings and Explore."""

from datetime import datetime
from typing import Any, Literal, cast

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Schema, Status

from dalgo.core.api import DalgoRouter, ctx_of
from dalgo.core.errors import field_error
from dalgo.core.streaming import async_chunks
from dalgo.warehouses import selectors, services
from dalgo.warehouses.models import TableStatistics, Warehouse
from dalgo.warehouses.types import MASK, TYPES, type_spec

router = DalgoRouter(tags=["warehouses"])

WarehouseTypeName = Literal["duckdb", "postgres", "bigquery"]
ColumnKindName = Literal["number", "text", "date", "datetime", "boolean", "json", "other"]
StatisticsStatusName = Literal["queued", "running", "succeeded", "failed"]
# A statistic's value as stored: ints stay ints; dates and non-finite or huge numbers are strings.
StatValue = int | float | str


class WarehouseTypeOut(Schema):
    """One warehouse type's settings form. The JSON key `schema` is the field `form_schema` here: a field
    `schema` would shadow BaseModel.schema (`json_schema`, ninja's Schema.json_schema), and as a validation
    alias ninja would read the instance's `.schema` method back. The route serializes by alias."""

    type: WarehouseTypeName
    label: str
    description: str
    form_schema: dict[str, Any] = Field(..., serialization_alias="schema")
    ui_schema: dict[str, Any]
    secret_fields: list[str]


class WarehouseIn(Schema):
    type: str
    name: str
    config: dict[str, Any] = {}


class WarehouseOut(Schema):
    type: WarehouseTypeName
    name: str
    config: dict[str, Any]
    secrets_set: list[str]
    created_at: datetime
    updated_at: datetime
    last_tested_at: datetime | None
    last_test_ok: bool | None
    last_test_message: str


class TestOut(Schema):
    ok: bool
    code: str
    message: str
    fields: dict[str, str]


class DependentOut(Schema):
    kind: str
    name: str


class DependentsOut(Schema):
    items: list[DependentOut]
    message: str


class ColumnOut(Schema):
    name: str
    type: str
    kind: ColumnKindName


class TableOut(Schema):
    name: str
    kind: Literal["table", "view"]
    columns: list[ColumnOut]


class SchemaOut(Schema):
    name: str
    tables: list[TableOut]


class TreeOut(Schema):
    schemas: list[SchemaOut]
    refreshed_at: datetime


class TreeQuery(Schema):
    refresh: bool = False


class PreviewQuery(Schema):
    limit: int = 50
    offset: int = 0
    sort: str | None = None
    direction: str = "asc"


class PreviewOut(Schema):
    columns: list[ColumnOut]
    rows: list[list[Any]]
    total_rows: int
    limit: int
    offset: int


class TopValueOut(Schema):
    value: bool | int | float | str | None
    count: int


class HistogramBucketOut(Schema):
    bucket: str
    count: int


class ColumnStatisticsOut(Schema):
    """One column's statistics. Every kind has `count` and `nulls`; which others are present depends on the
    kind. The routes serialize with exclude_unset, so a statistic a kind does not have is absent, not null."""

    name: str
    type: str
    kind: ColumnKindName
    count: int
    nulls: int
    distinct: int | None = None
    min: StatValue | None = None
    max: StatValue | None = None
    mean: StatValue | None = None
    median: StatValue | None = None
    min_length: int | None = None
    max_length: int | None = None
    true_count: int | None = None
    false_count: int | None = None
    top_values: list[TopValueOut] | None = None
    histogram: list[HistogramBucketOut] | None = None


class StatisticsProgressOut(Schema):
    done: int | None = None
    total: int | None = None
    current: str | None = None


class StatisticsOut(Schema):
    status: StatisticsStatusName
    progress: StatisticsProgressOut
    requested_at: datetime
    computed_at: datetime | None
    error: str
    row_count: int | None
    columns: list[ColumnStatisticsOut]


class DeleteQuery(Schema):
    confirm: str = ""


def _warehouse_out(warehouse: Warehouse) -> WarehouseOut:
    masked = {**warehouse.config, **dict.fromkeys(warehouse.secrets, MASK)}
    return WarehouseOut(
        type=cast(WarehouseTypeName, warehouse.type), name=warehouse.name, config=masked,
        secrets_set=sorted(warehouse.secrets),
        created_at=warehouse.created_at, updated_at=warehouse.updated_at, last_tested_at=warehouse.last_tested_at,
        last_test_ok=warehouse.last_test_ok, last_test_message=warehouse.last_test_message,
    )  # fmt: skip


def _statistics_out(stats: TableStatistics) -> StatisticsOut:
    result = stats.result or {}
    return StatisticsOut(
        status=cast(StatisticsStatusName, stats.status), progress=stats.progress, requested_at=stats.requested_at,
        computed_at=stats.computed_at, error=stats.error, row_count=result.get("row_count"),
        columns=result.get("columns", []),
    )  # fmt: skip


@router.get("/warehouse/types", permission="warehouse.view", response=list[WarehouseTypeOut], by_alias=True)
def warehouse_types(request: HttpRequest) -> list[WarehouseTypeOut]:
    """The form of each warehouse type, as JSON schema (drawn by react-jsonschema-form)."""
    return [
        WarehouseTypeOut(type=cast(WarehouseTypeName, t.type), label=t.label, description=t.description,
                         form_schema=t.schema, ui_schema=t.ui_schema, secret_fields=list(t.secret_fields))
        for t in TYPES.values()
    ]  # fmt: skip


@router.get("/warehouse", permission="warehouse.view", response=WarehouseOut)
def warehouse_show(request: HttpRequest) -> WarehouseOut:
    return _warehouse_out(selectors.warehouse_get(org=ctx_of(request).require_org))


@router.post("/warehouse/test", permission="warehouse.edit", response=TestOut)
def warehouse_test(request: HttpRequest, payload: WarehouseIn) -> TestOut:
    """Test settings live before saving them. A failing test is a normal answer (ok=false)."""
    type_spec(payload.type)
    outcome = services.warehouse_test(
        org=ctx_of(request).require_org, warehouse_type=payload.type, config=payload.config
    )
    return TestOut(ok=outcome.ok, code=outcome.code, message=outcome.message, fields=outcome.fields)


@router.put("/warehouse", permission="warehouse.edit", response=WarehouseOut)
def warehouse_save(request: HttpRequest, payload: WarehouseIn) -> WarehouseOut:
    ctx = ctx_of(request)
    warehouse = services.warehouse_save(
        org=ctx.require_org, actor=ctx.require_user, warehouse_type=payload.type, name=payload.name,
        config=payload.config,
    )  # fmt: skip
    return _warehouse_out(warehouse)


@router.post("/warehouse/check", permission="warehouse.view", response=TestOut)
def warehouse_check(request: HttpRequest) -> TestOut:
    outcome = services.warehouse_check(org=ctx_of(request).require_org)
    return TestOut(ok=outcome.ok, code=outcome.code, message=outcome.message, fields=outcome.fields)


@router.get("/warehouse/dependents", permission="warehouse.edit", response=DependentsOut)
def warehouse_dependents(request: HttpRequest) -> DependentsOut:
    items = services.warehouse_dependents(org=ctx_of(request).require_org)
    message = (
        "Nothing else uses this warehouse yet." if not items else f"{len(items)} thing(s) depend on this warehouse."
    )
    return DependentsOut(items=[DependentOut(**i) for i in items], message=message)


@router.delete("/warehouse", permission="warehouse.edit", response={204: None})
def warehouse_delete(request: HttpRequest, query: Query[DeleteQuery]) -> Status[None]:
    ctx = ctx_of(request)
    services.warehouse_delete(org=ctx.require_org, actor=ctx.require_user, confirm=query.confirm)
    return Status(204, None)


@router.get("/explore/tree", permission="explore.view", response=TreeOut)
def explore_tree(request: HttpRequest, query: Query[TreeQuery]) -> TreeOut:
    from django.utils import timezone

    warehouse = selectors.warehouse_get(org=ctx_of(request).require_org)
    catalog = selectors.catalog_get(warehouse=warehouse, refresh=query.refresh)
    schemas: dict[str, list[TableOut]] = {}
    for table in catalog.tables:
        schemas.setdefault(table.schema, []).append(
            TableOut(
                name=table.name,
                kind=cast(Literal["table", "view"], table.kind),
                columns=[ColumnOut.model_validate(c) for c in selectors.columns_out(table.columns)],
            )
        )
    return TreeOut(
        schemas=[SchemaOut(name=name, tables=tables) for name, tables in schemas.items()], refreshed_at=timezone.now()
    )


@router.get("/explore/tables/{schema}/{table}/preview", permission="explore.view", response=PreviewOut)
def explore_preview(request: HttpRequest, schema: str, table: str, query: Query[PreviewQuery]) -> PreviewOut:
    if not 1 <= query.limit <= selectors.PREVIEW_MAX_LIMIT:
        raise field_error("limit", f"Choose between 1 and {selectors.PREVIEW_MAX_LIMIT} rows.")
    if query.offset < 0:
        raise field_error("offset", "The offset cannot be negative.")
    explorer = selectors.explorer_for(org=ctx_of(request).require_org, schema=schema, table=table)
    data = selectors.table_preview(
        explorer=explorer, limit=query.limit, offset=query.offset, sort=query.sort, direction=query.direction
    )
    return PreviewOut(**data)


@router.get("/explore/tables/{schema}/{table}/download", permission="explore.view", response={200: None})
def explore_download(request: HttpRequest, schema: str, table: str) -> StreamingHttpResponse:
    """The whole table as CSV, streamed (constant memory however large)."""
    explorer = selectors.explorer_for(org=ctx_of(request).require_org, schema=schema, table=table)
    chunks = selectors.table_csv(explorer=explorer)
    # Under ASGI a synchronous iterator would be read whole before the first byte goes out.
    content = async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    filename = f"{schema}.{table}.csv".replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{filename.encode("ascii", "replace").decode()}"'
    return response


@router.post(
    "/explore/tables/{schema}/{table}/statistics",
    permission="explore.view",
    response={202: StatisticsOut},
    exclude_unset=True,
)
def explore_statistics_start(request: HttpRequest, schema: str, table: str) -> Status[StatisticsOut]:
    ctx = ctx_of(request)
    stats = services.statistics_start(org=ctx.require_org, actor=ctx.require_user, schema=schema, table=table)
    stats.refresh_from_db()
    return Status(202, _statistics_out(stats))


@router.get(
    "/explore/tables/{schema}/{table}/statistics", permission="explore.view", response=StatisticsOut, exclude_unset=True
)
def explore_statistics(request: HttpRequest, schema: str, table: str) -> StatisticsOut:
    return _statistics_out(selectors.statistics_get(org=ctx_of(request).require_org, schema=schema, table=table))
