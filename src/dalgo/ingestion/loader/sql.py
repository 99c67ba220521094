"""The loader's SQL, built as sqlglot trees for the warehouse's dialect, every identifier quoted:
DDL (schema, tables, added and widened columns, the overwrite swap) and the statement that applies a
staged batch (INSERT ... SELECT for append and overwrite, MERGE for append_dedup).

BigQuery differs in a few places, each handled where it arises: a dataset (schema) is created in a
location; JSON text becomes JSON with PARSE_JSON (BigQuery has no CAST to JSON) and JSON becomes
text with TO_JSON_STRING; a column's type changes in place only for the coercions BigQuery allows
(INT64 to NUMERIC or FLOAT64, NUMERIC to FLOAT64), otherwise the table is rewritten by one
CREATE OR REPLACE TABLE ... AS SELECT * REPLACE (...); the overwrite swap is one
CREATE OR REPLACE TABLE ... AS SELECT * (`replace_table`)."""

from __future__ import annotations

import hashlib

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


def create_schema(schema: str, *, dialect: str, location: str | None = None) -> str:
    """CREATE SCHEMA IF NOT EXISTS; in BigQuery a dataset, created in `location` (OPTIONS(location=...))."""
    properties = None
    if dialect == "bigquery" and location:
        option = exp.Property(this=exp.var("location"), value=exp.Literal.string(location))
        properties = exp.Properties(expressions=[option])
    return exp.Create(this=exp.Table(this=ident(schema)), kind="SCHEMA", exists=True, properties=properties).sql(
        dialect
    )


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


def json_from_text(value: exp.Expression, *, dialect: str) -> exp.Expression:
    """JSON text (a staged JSON column, `_airbyte_meta`) as a JSON value. BigQuery parses it with
    PARSE_JSON, rounding numbers JSON cannot hold exactly rather than failing the batch."""
    if dialect == "bigquery":
        mode = exp.Kwarg(this=exp.var("wide_number_mode"), expression=exp.Literal.string("round"))
        return exp.ParseJSON(this=value, expression=mode)
    return exp.cast(value, exp.DataType.build("JSONB" if dialect == "postgres" else "JSON"))


def to_type(value: exp.Expression, source: ColumnType | None, target: ColumnType, *, dialect: str) -> exp.Expression:
    """`value` (of type `source`, None: unknown) as `target`. Numbers, booleans and dates become
    JSON values through the engine's to_json, never by parsing their text. A staged value of type
    JSON is JSON text (the warehouses parse it); in BigQuery an unknown source going to JSON is a
    JSON column already (BigQuery cannot CAST to JSON)."""
    if dialect == "bigquery" and target == ColumnType.JSON:
        if source == ColumnType.JSON:
            return json_from_text(value, dialect=dialect)
        if source is None:
            return value
    if target == ColumnType.JSON and source not in (None, ColumnType.JSON):
        fn = "TO_JSONB" if dialect == "postgres" else "TO_JSON"
        return exp.Anonymous(this=fn, expressions=[value])
    # Same type: a no-op cast that also turns DuckDB's staged JSON/decimal text into the column type.
    return exp.cast(value, sql_type(target, dialect))


# The type changes BigQuery's ALTER COLUMN SET DATA TYPE makes in place (its allowed coercions).
_BIGQUERY_IN_PLACE = {
    (ColumnType.BIGINT, ColumnType.DOUBLE),
    (ColumnType.BIGINT, ColumnType.NUMERIC),
    (ColumnType.NUMERIC, ColumnType.DOUBLE),
}


def _bigquery_convert(value: exp.Expression, source: ColumnType, target: ColumnType) -> exp.Expression:
    """A BigQuery column of type `source` as `target` (JSON columns, not JSON text)."""
    if target == ColumnType.JSON:
        return value if source == ColumnType.JSON else exp.Anonymous(this="TO_JSON", expressions=[value])
    if source == ColumnType.JSON:
        text = exp.Anonymous(this="TO_JSON_STRING", expressions=[value])
        return text if target == ColumnType.TEXT else exp.cast(text, sql_type(target, "bigquery"))
    return exp.cast(value, sql_type(target, "bigquery"))


def alter_column_type(
    schema: str, name: str, column: str, source: ColumnType, target: ColumnType, *, dialect: str
) -> str:
    if dialect == "bigquery":
        if (source, target) in _BIGQUERY_IN_PLACE:
            action = exp.AlterColumn(this=ident(column), dtype=sql_type(target, dialect))
            return exp.Alter(this=table(schema, name), kind="TABLE", actions=[action]).sql(dialect)
        # Other changes rewrite the table in one statement, columns in place and in order.
        converted = exp.alias_(_bigquery_convert(col(column), source, target), column, quoted=True)
        select = exp.select(exp.Star(replace=[converted])).from_(table(schema, name))
        return exp.Create(this=table(schema, name), kind="TABLE", replace=True, expression=select).sql(dialect)
    using = to_type(col(column), source, target, dialect=dialect)
    action = exp.AlterColumn(this=ident(column), dtype=sql_type(target, dialect), using=using)
    return exp.Alter(this=table(schema, name), kind="TABLE", actions=[action]).sql(dialect)


def create_key_index(schema: str, name: str, columns: list[str], *, dialect: str) -> str:
    """An index on the primary key of an append_dedup table (PostgreSQL): each batch's MERGE then
    finds its rows by key instead of scanning the whole table."""
    digest = hashlib.sha1(f"{schema}.{name}".encode(), usedforsecurity=False).hexdigest()[:8]
    index = ident(f"{name[:40]}_{digest}_key")
    keys = ", ".join(ident(c).sql(dialect) for c in columns)
    return f"CREATE INDEX IF NOT EXISTS {index.sql(dialect)} ON {table(schema, name).sql(dialect)} ({keys})"


def drop_table(schema: str | None, name: str, *, dialect: str) -> str:
    return exp.Drop(tables=[table(schema, name)], kind="TABLE", exists=True).sql(dialect)


def rename_table(schema: str, name: str, new_name: str, *, dialect: str) -> str:
    action = exp.AlterRename(this=exp.Table(this=ident(new_name)))
    return exp.Alter(this=table(schema, name), kind="TABLE", actions=[action]).sql(dialect)


def replace_table(schema: str, name: str, source: str, *, dialect: str) -> str:
    """`name` becomes a copy of `source`, atomically (BigQuery's overwrite swap: one statement where
    DuckDB and PostgreSQL drop and rename inside a transaction)."""
    select = exp.select(exp.Star()).from_(table(schema, source))
    return exp.Create(this=table(schema, name), kind="TABLE", replace=True, expression=select).sql(dialect)


def replace_rows(schema: str, name: str, source: str, columns: dict[str, ColumnType], *, dialect: str) -> list[str]:
    """Empty `name` and fill it from `source` (same schema), by column name: for a table that views
    depend on, which cannot be dropped and swapped."""
    target = table(schema, name)
    select = exp.select(
        *[exp.alias_(to_type(col(c), None, t, dialect=dialect), c, quoted=True) for c, t in columns.items()]
    ).from_(table(schema, source))
    insert = exp.Insert(this=exp.Schema(this=target, expressions=[ident(c) for c in columns]), expression=select)
    return [exp.TruncateTable(expressions=[target]).sql(dialect), insert.sql(dialect)]


def _row_values(
    *,
    staged: dict[str, ColumnType],
    target: dict[str, ColumnType],
    dialect: str,
    owner: str,
    meta: str | None,
) -> list[tuple[str, exp.Expression]]:
    """(target column, value) for one staged row: data columns cast to the target's types, columns
    the batch lacks NULL, then the metadata columns (the batch carries them, see build_batch;
    `_airbyte_meta` is the constant `meta` when given: the batch has no such column)."""
    values: list[tuple[str, exp.Expression]] = []
    for name, target_type in target.items():
        if name in (RAW_ID, EXTRACTED_AT, META, GENERATION_ID):
            continue
        if name in staged:
            values.append((name, to_type(col(name, owner), staged[name], target_type, dialect=dialect)))
        else:
            values.append((name, exp.Null()))
    values.append((RAW_ID, col(RAW_ID, owner)))
    values.append((EXTRACTED_AT, col(EXTRACTED_AT, owner)))
    meta_text = col(META, owner) if meta is None else exp.Literal.string(meta)
    values.append((META, json_from_text(meta_text, dialect=dialect)))
    values.append((GENERATION_ID, col(GENERATION_ID, owner)))
    return values


def insert_from_stage(
    *,
    schema: str,
    name: str,
    stage: exp.Table,
    staged: dict[str, ColumnType],
    target: dict[str, ColumnType],
    dialect: str,
    meta: str | None = None,
) -> str:
    """append / overwrite: every staged row becomes a row of the target (`meta`: see _row_values)."""
    values = _row_values(staged=staged, target=target, dialect=dialect, owner="s", meta=meta)
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
    dialect: str,
    null_keys: bool = False,
    unique_keys: bool = False,
    meta: str | None = None,
) -> list[str]:
    """append_dedup: the latest staged row per primary key (by cursor, then extraction time, then
    arrival) replaces the target's row unless the target's cursor is newer; new keys are inserted.

    A NULL in a key column is a value like any other (rows with the same NULL key are one row, as
    PARTITION BY groups them). The join on `=` keeps a hash or index join for the usual rows; rows
    with a NULL in their key (`null_keys`: the batch has some) get a second MERGE that matches with
    IS NOT DISTINCT FROM, which PostgreSQL cannot hash but which only sees those rows. With
    `unique_keys` (no key repeats in the batch) there is nothing to rank: the stage is merged as it
    is, without the sort and window (~25% of PostgreSQL's MERGE time, measured). `meta`: see
    _row_values."""
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
    ranked = (
        exp.select(exp.Star()).from_(stage.copy())
        if unique_keys
        else exp.select(exp.Star(), exp.alias_(window, _RN, quoted=True)).from_(stage.copy())
    )
    values = _row_values(staged=staged, target=target, dialect=dialect, owner="s", meta=meta)
    newer: exp.Expression | None = None
    if cursor and cursor in target:
        s_cursor = to_type(col(cursor, "s"), staged.get(cursor), target[cursor], dialect=dialect)
        newer = exp.paren(
            exp.or_(
                exp.GTE(this=s_cursor, expression=col(cursor, "t")),
                exp.Is(this=col(cursor, "t"), expression=exp.Null()),
            )
        )
    has_null = exp.or_(*[exp.Is(this=col(k), expression=exp.Null()) for k in primary_key])
    statements = []
    for nulls in (False, True) if null_keys else (False,):
        latest = exp.select(exp.Star()).from_(ranked.subquery("r"))
        if not unique_keys:
            latest = latest.where(exp.EQ(this=col(_RN), expression=exp.Literal.number(1)))
        latest = latest.where(has_null.copy() if nulls else exp.not_(exp.paren(has_null.copy())))
        equal = exp.NullSafeEQ if nulls else exp.EQ
        on = exp.and_(*[equal(this=col(k, "t"), expression=col(k, "s")) for k in primary_key])
        update = exp.Update(expressions=[exp.EQ(this=col(c), expression=v.copy()) for c, v in values])
        insert = exp.Insert(
            this=exp.Tuple(expressions=[col(c) for c, _ in values]),
            expression=exp.Tuple(expressions=[v.copy() for _, v in values]),
        )
        whens = exp.Whens(
            expressions=[
                exp.When(matched=True, condition=newer.copy() if newer else None, then=update),
                exp.When(matched=False, then=insert),
            ]
        )
        merge = exp.Merge(this=table(schema, name, alias="t"), using=latest.subquery("s"), on=on, whens=whens)
        statements.append(merge.sql(dialect))
    return statements
