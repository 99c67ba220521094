"""The loader's SQL, built as sqlglot trees for the warehouse's dialect, every identifier quoted:
DDL (schema, tables, added and widened columns, the overwrite swap) and the statement that applies a
staged batch (INSERT ... SELECT for append and overwrite, MERGE for append_dedup)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlglot import exp

from dalgo.ingestion.loader.types import (
    EXTRACTED_AT,
    GENERATION_ID,
    META,
    RAW_ID,
    ColumnType,
    sql_type,
)

SEQ = "_dalgo_seq"  # arrival order inside a staged batch: ties on cursor and extraction time
_RN = "_dalgo_rn"


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def table(schema: str | None, name: str, *, alias: str | None = None) -> exp.Table:
    node = exp.Table(this=ident(name), db=ident(schema) if schema else None)
    if alias:
        node.set("alias", exp.TableAlias(this=ident(alias)))
    return node


def col(name: str, owner: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=ident(owner) if owner else None)


def create_schema(schema: str, *, dialect: str) -> str:
    return exp.Create(this=exp.Table(this=ident(schema)), kind="SCHEMA", exists=True).sql(dialect)


def create_table(
    schema: str | None, name: str, columns: dict[str, ColumnType], *, dialect: str, temporary: bool = False
) -> str:
    defs = [exp.ColumnDef(this=ident(c), kind=sql_type(t, dialect)) for c, t in columns.items()]
    properties = exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None
    return exp.Create(
        this=exp.Schema(this=table(schema, name), expressions=defs),
        kind="TABLE",
        exists=not temporary,
        properties=properties,
    ).sql(dialect)


def add_column(schema: str, name: str, column: str, column_type: ColumnType, *, dialect: str) -> str:
    action = exp.ColumnDef(this=ident(column), kind=sql_type(column_type, dialect))
    return exp.Alter(this=table(schema, name), kind="TABLE", actions=[action]).sql(dialect)


def to_type(value: exp.Expression, source: ColumnType | None, target: ColumnType, *, dialect: str) -> exp.Expression:
    """`value` (of type `source`, None: unknown) as `target`. Numbers, booleans and dates become
    JSON values through the engine's to_json, never by parsing their text."""
    if target == ColumnType.JSON and source not in (None, ColumnType.JSON):
        fn = "TO_JSONB" if dialect == "postgres" else "TO_JSON"
        return exp.Anonymous(this=fn, expressions=[value])
    # Same type: a no-op cast that also turns DuckDB's staged JSON/decimal text into the column type.
    return exp.cast(value, sql_type(target, dialect))


def alter_column_type(
    schema: str, name: str, column: str, source: ColumnType, target: ColumnType, *, dialect: str
) -> str:
    using = to_type(col(column), source, target, dialect=dialect)
    action = exp.AlterColumn(this=ident(column), dtype=sql_type(target, dialect), using=using)
    return exp.Alter(this=table(schema, name), kind="TABLE", actions=[action]).sql(dialect)


def drop_table(schema: str | None, name: str, *, dialect: str) -> str:
    return exp.Drop(tables=[table(schema, name)], kind="TABLE", exists=True).sql(dialect)


def rename_table(schema: str, name: str, new_name: str, *, dialect: str) -> str:
    action = exp.AlterRename(this=exp.Table(this=ident(new_name)))
    return exp.Alter(this=table(schema, name), kind="TABLE", actions=[action]).sql(dialect)


def replace_rows(schema: str, name: str, source: str, columns: dict[str, ColumnType], *, dialect: str) -> list[str]:
    """Empty `name` and fill it from `source` (same schema), by column name: for a table that views
    depend on, which cannot be dropped and swapped."""
    target = table(schema, name)
    select = exp.select(
        *[exp.alias_(to_type(col(c), None, t, dialect=dialect), c, quoted=True) for c, t in columns.items()]
    ).from_(table(schema, source))
    insert = exp.Insert(this=exp.Schema(this=target, expressions=[ident(c) for c in columns]), expression=select)
    return [exp.TruncateTable(expressions=[target]).sql(dialect), insert.sql(dialect)]


def _uuid_text() -> exp.Expression:
    return exp.cast(exp.Uuid(), exp.DataType.build("TEXT"))


def _row_values(
    *,
    staged: dict[str, ColumnType],
    target: dict[str, ColumnType],
    generation_id: int,
    meta_base: dict[str, Any],
    dialect: str,
    owner: str,
) -> list[tuple[str, exp.Expression]]:
    """(target column, value) for one staged row: data columns cast to the target's types, columns
    the batch lacks NULL, then the metadata columns."""
    values: list[tuple[str, exp.Expression]] = []
    for name, target_type in target.items():
        if name in (RAW_ID, EXTRACTED_AT, META, GENERATION_ID):
            continue
        if name in staged:
            values.append((name, to_type(col(name, owner), staged[name], target_type, dialect=dialect)))
        else:
            values.append((name, exp.Null()))
    values.append((RAW_ID, _uuid_text()))
    values.append((EXTRACTED_AT, col(EXTRACTED_AT, owner)))
    json_type = exp.DataType.build("JSONB" if dialect == "postgres" else "JSON")
    clean_meta = exp.cast(exp.Literal.string(orjson.dumps({"changes": [], **meta_base}).decode()), json_type)
    values.append((META, exp.Coalesce(this=exp.cast(col(META, owner), json_type), expressions=[clean_meta])))
    values.append((GENERATION_ID, exp.cast(exp.Literal.number(generation_id), exp.DataType.build("BIGINT"))))
    return values


def insert_from_stage(
    *,
    schema: str,
    name: str,
    stage: exp.Table,
    staged: dict[str, ColumnType],
    target: dict[str, ColumnType],
    generation_id: int,
    meta_base: dict[str, Any],
    dialect: str,
) -> str:
    """append / overwrite: every staged row becomes a row of the target."""
    values = _row_values(
        staged=staged, target=target, generation_id=generation_id, meta_base=meta_base, dialect=dialect, owner="s"
    )
    select = exp.select(*[v for _, v in values]).from_(stage.copy().as_("s", quoted=True))
    return exp.Insert(
        this=exp.Schema(this=table(schema, name), expressions=[ident(c) for c, _ in values]),
        expression=select,
    ).sql(dialect)


def merge_from_stage(
    *,
    schema: str,
    name: str,
    stage: exp.Table,
    staged: dict[str, ColumnType],
    target: dict[str, ColumnType],
    primary_key: list[str],
    cursor: str | None,
    generation_id: int,
    meta_base: dict[str, Any],
    dialect: str,
) -> str:
    """append_dedup: the latest staged row per primary key (by cursor, then extraction time, then
    arrival) replaces the target's row unless the target's cursor is newer; new keys are inserted."""
    order: list[exp.Expression] = []
    if cursor:
        order.append(exp.Ordered(this=col(cursor), desc=True, nulls_first=False))
    order.append(exp.Ordered(this=col(EXTRACTED_AT), desc=True, nulls_first=False))
    order.append(exp.Ordered(this=col(SEQ), desc=True, nulls_first=False))
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=[col(k) for k in primary_key],
        order=exp.Order(expressions=order),
    )
    ranked = exp.select(exp.Star(), exp.alias_(window, _RN, quoted=True)).from_(stage.copy())
    latest = (
        exp.select(exp.Star())
        .from_(ranked.subquery("r", copy=False))
        .where(exp.EQ(this=col(_RN), expression=exp.Literal.number(1)))
    )
    on = exp.and_(*[exp.EQ(this=col(k, "t"), expression=col(k, "s")) for k in primary_key])
    values = _row_values(
        staged=staged, target=target, generation_id=generation_id, meta_base=meta_base, dialect=dialect, owner="s"
    )
    newer: exp.Expression | None = None
    if cursor and cursor in target:
        s_cursor = to_type(col(cursor, "s"), staged.get(cursor), target[cursor], dialect=dialect)
        newer = exp.paren(
            exp.or_(
                exp.GTE(this=s_cursor, expression=col(cursor, "t")),
                exp.Is(this=col(cursor, "t"), expression=exp.Null()),
            )
        )
    update = exp.Update(expressions=[exp.EQ(this=col(c), expression=v) for c, v in values])
    insert = exp.Insert(
        this=exp.Tuple(expressions=[col(c) for c, _ in values]),
        expression=exp.Tuple(expressions=[v.copy() for _, v in values]),
    )
    whens = exp.Whens(
        expressions=[
            exp.When(matched=True, condition=newer, then=update),
            exp.When(matched=False, then=insert),
        ]
    )
    merge = exp.Merge(
        this=table(schema, name, alias="t"),
        using=latest.subquery("s", copy=False),
        on=on,
        whens=whens,
    )
    return merge.sql(dialect)
