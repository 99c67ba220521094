"""`SqlBuilder`: every query Dalgo itself writes against a warehouse (preview, count, export,
profile, top values, histograms), built as a sqlglot tree from catalog-checked identifiers."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlglot import exp

from dalgo.core.errors import NotFound, field_error
from dalgo.warehouses.adapters.base import Catalog, Column, ColumnKind, Table
from dalgo.warehouses.sql._common import check_dialect, column_ref, ident, number_literal, render, table_ref
from dalgo.warehouses.sql.filters import Filter, where_condition

MAX_PREVIEW_LIMIT = 10_000
MAX_TOP_VALUES = 1000
MAX_BINS = 1000
ROW_COUNT_ALIAS = "row_count"

# Kinds every dialect can ORDER BY / GROUP BY (JSON is not orderable in Postgres or BigQuery).
ORDERABLE_KINDS = frozenset(
    {ColumnKind.NUMBER, ColumnKind.TEXT, ColumnKind.DATE, ColumnKind.DATETIME, ColumnKind.BOOLEAN}
)

# The statistics column_profile computes per column kind (besides "nulls" for every column).
PROFILE_STATS: dict[ColumnKind, tuple[str, ...]] = {
    ColumnKind.NUMBER: ("nulls", "distinct", "min", "max", "mean", "median"),
    ColumnKind.DATE: ("nulls", "distinct", "min", "max"),
    ColumnKind.DATETIME: ("nulls", "distinct", "min", "max"),
    ColumnKind.BOOLEAN: ("nulls", "distinct", "true", "false"),
    ColumnKind.TEXT: ("nulls", "distinct", "min_length", "max_length"),
    ColumnKind.JSON: ("nulls", "distinct"),
    ColumnKind.OTHER: ("nulls",),
}


def profile_alias(index: int, stat: str) -> str:
    return f"c{index}__{stat}"


def _int_param(value: object, *, field: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise field_error(field, "Expected a whole number.")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise field_error(field, f"Must be {bounds}.")
    return value


def _float_param(value: object, *, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise field_error(field, "Expected a finite number.")
    return float(value)


def _count_star() -> exp.Count:
    return exp.Count(this=exp.Star())


def _position(n: int) -> exp.Expr:
    """GROUP BY / ORDER BY by output position: an alias such as "value" could also be a column of the
    table, and dialects disagree on which one the name means; a position is unambiguous everywhere."""
    return exp.Literal.number(n)


def _alias(expression: exp.Expr, name: str) -> exp.Alias:
    return exp.Alias(this=expression, alias=ident(name))


class SqlBuilder:
    """Builds SQL for one warehouse dialect ("duckdb" | "postgres" | "bigquery") against its catalog."""

    def __init__(self, dialect: str, catalog: Catalog) -> None:
        self.dialect = check_dialect(dialect)
        self.catalog = catalog

    # ---- lookups ------------------------------------------------------------------------

    def _table(self, schema: object, table: object) -> Table:
        if not isinstance(schema, str) or not isinstance(table, str):
            raise NotFound("No such table in the warehouse.", code="table_not_found")
        return self.catalog.table(schema, table)

    def _column(self, table: Table, name: object, *, field: str) -> Column:
        column = table.column(name) if isinstance(name, str) else None
        if column is None:
            raise field_error(field, f"Unknown column in {table.schema}.{table.name}.")
        return column

    def _columns(self, table: Table, names: Sequence[str] | None, *, field: str = "columns") -> list[Column]:
        if names is None:
            if not table.columns:
                raise field_error(field, f"{table.schema}.{table.name} has no columns.")
            return list(table.columns)
        if isinstance(names, str | bytes):
            raise field_error(field, "Expected a list of column names.")
        if not names:
            raise field_error(field, "Choose at least one column.")
        columns = [self._column(table, name, field=field) for name in names]
        if len({c.name for c in columns}) != len(columns):
            raise field_error(field, "A column is listed twice.")
        return columns

    def _base(self, table: Table, columns: Sequence[Column]) -> exp.Select:
        projections = [column_ref(c.name) for c in columns]
        return exp.Select(expressions=projections).from_(table_ref(table.schema, table.name), copy=False)

    def _where(self, select: exp.Select, table: Table, filters: Sequence[Filter]) -> exp.Select:
        condition = where_condition(table, filters, dialect=self.dialect)
        return select.where(condition, copy=False) if condition is not None else select

    def _sql(self, expression: exp.Expr) -> str:
        return render(expression, self.dialect)

    # ---- queries ------------------------------------------------------------------------

    def preview(
        self,
        *,
        schema: str,
        table: str,
        columns: list[str] | None = None,
        sort: Sequence[tuple[str, str]] = (),
        limit: int,
        offset: int,
        filters: Sequence[Filter] = (),
    ) -> str:
        """One page of rows. Sorted by `sort` then by every orderable column of the table, NULLs
        last, so pages are stable across calls and dialects."""
        tbl = self._table(schema, table)
        cols = self._columns(tbl, columns)
        limit = _int_param(limit, field="limit", low=1, high=MAX_PREVIEW_LIMIT)
        offset = _int_param(offset, field="offset", low=0)
        select = self._where(self._base(tbl, cols), tbl, filters)

        if isinstance(sort, str | bytes):
            raise field_error("sort", "Expected a list of [column, direction] pairs.")
        order: list[exp.Ordered] = []
        seen: set[str] = set()
        for item in sort:
            if isinstance(item, str | bytes) or not isinstance(item, Sequence) or len(item) != 2:
                raise field_error("sort", "Expected a list of [column, direction] pairs.")
            name, direction = item
            column = self._column(tbl, name, field="sort")
            if column.kind not in ORDERABLE_KINDS:
                raise field_error("sort", f"A {column.kind} column cannot be sorted.")
            if not isinstance(direction, str) or direction.lower() not in ("asc", "desc"):
                raise field_error("sort", "Direction must be 'asc' or 'desc'.")
            if column.name in seen:
                raise field_error("sort", "A column is sorted twice.")
            seen.add(column.name)
            order.append(exp.Ordered(this=column_ref(column.name), desc=direction.lower() == "desc", nulls_first=False))
        for column in tbl.columns:  # tie-breakers: deterministic pages
            if column.kind in ORDERABLE_KINDS and column.name not in seen:
                order.append(exp.Ordered(this=column_ref(column.name), desc=False, nulls_first=False))
        if order:
            select.set("order", exp.Order(expressions=order))
        select = select.limit(exp.Literal.number(limit), copy=False)
        if offset:
            select = select.offset(exp.Literal.number(offset), copy=False)
        return self._sql(select)

    def count(self, *, schema: str, table: str, filters: Sequence[Filter] = ()) -> str:
        tbl = self._table(schema, table)
        select = exp.Select(expressions=[_alias(_count_star(), "count")]).from_(
            table_ref(tbl.schema, tbl.name), copy=False
        )
        return self._sql(self._where(select, tbl, filters))

    def select_all(self, *, schema: str, table: str, columns: list[str] | None = None) -> str:
        """Every row of the chosen columns (for CSV export; stream it, the adapter sets the timeout)."""
        tbl = self._table(schema, table)
        return self._sql(self._base(tbl, self._columns(tbl, columns)))

    # ---- statistics ---------------------------------------------------------------------

    def _median(self, col: exp.Expr) -> exp.Expr:
        if self.dialect == "bigquery":
            quantiles = exp.ApproxQuantiles(this=col, expression=exp.Literal.number(2))
            return exp.Bracket(this=quantiles, expressions=[exp.Literal.number(1)], offset=0)
        return exp.Median(this=exp.Cast(this=col, to=exp.DataType.build("DOUBLE")))

    def _as_text(self, col: exp.Expr) -> exp.Expr:
        if self.dialect == "bigquery":
            return exp.JSONFormat(this=col)  # TO_JSON_STRING: JSON cannot be CAST to STRING
        return exp.Cast(this=col, to=exp.DataType.build("TEXT"))

    def _stat(self, stat: str, column: Column) -> exp.Expr:
        col = column_ref(column.name)
        if stat == "nulls":
            return exp.Sub(this=_count_star(), expression=exp.Count(this=col))
        if stat == "distinct":
            target = self._as_text(col) if column.kind == ColumnKind.JSON else col
            return exp.Count(this=exp.Distinct(expressions=[target]))
        if stat == "min":
            return exp.Min(this=col)
        if stat == "max":
            return exp.Max(this=col)
        if stat == "mean":
            return exp.Avg(this=exp.Cast(this=col, to=exp.DataType.build("DOUBLE")))
        if stat == "median":
            return self._median(col)
        if stat in ("true", "false"):
            condition: exp.Expr = exp.EQ(this=col, expression=exp.Boolean(this=stat == "true"))
            return exp.Count(this=exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.number(1))]))
        if stat == "min_length":
            return exp.Min(this=exp.Length(this=col))
        if stat == "max_length":
            return exp.Max(this=exp.Length(this=col))
        raise ValueError(f"unknown statistic {stat}")  # pragma: no cover - PROFILE_STATS is closed

    def column_profile(self, *, schema: str, table: str, columns: Sequence[Column]) -> str:
        """One aggregate query, one row: `row_count`, then `c<i>__<stat>` for each column i (see
        PROFILE_STATS). Read it back with `parse_column_profile`."""
        tbl = self._table(schema, table)
        if isinstance(columns, str | bytes) or not columns:
            raise field_error("columns", "Choose at least one column.")
        checked = [self._column(tbl, c.name if isinstance(c, Column) else c, field="columns") for c in columns]
        projections: list[exp.Expr] = [_alias(_count_star(), ROW_COUNT_ALIAS)]
        for index, column in enumerate(checked):
            for stat in PROFILE_STATS[column.kind]:
                projections.append(_alias(self._stat(stat, column), profile_alias(index, stat)))
        select = exp.Select(expressions=projections).from_(table_ref(tbl.schema, tbl.name), copy=False)
        return self._sql(select)

    def parse_column_profile(
        self, *, columns: Sequence[Column], result_columns: Sequence[str], row: Sequence[Any]
    ) -> dict[str, dict[str, Any]]:
        return parse_column_profile(columns=columns, result_columns=result_columns, row=row)

    def top_values(self, *, schema: str, table: str, column: str, limit: int = 10) -> str:
        """The most frequent non-NULL values: columns `value`, `count`; by count desc, then value."""
        tbl = self._table(schema, table)
        col_meta = self._column(tbl, column, field="column")
        limit = _int_param(limit, field="limit", low=1, high=MAX_TOP_VALUES)
        col = column_ref(col_meta.name)
        if col_meta.kind == ColumnKind.JSON:
            value: exp.Expr = self._as_text(col)
        elif col_meta.kind in ORDERABLE_KINDS:
            value = col
        else:
            raise field_error("column", f"Top values are not available for a {col_meta.kind} column.")
        select = (
            exp.Select(expressions=[_alias(value, "value"), _alias(_count_star(), "count")])
            .from_(table_ref(tbl.schema, tbl.name), copy=False)
            .where(exp.Not(this=exp.Is(this=col.copy(), expression=exp.Null())), copy=False)
            .group_by(_position(1), copy=False)
        )
        select.set(
            "order",
            exp.Order(
                expressions=[
                    exp.Ordered(this=_position(2), desc=True),
                    exp.Ordered(this=_position(1), desc=False),
                ]
            ),
        )
        return self._sql(select.limit(exp.Literal.number(limit), copy=False))

    def date_histogram(self, *, schema: str, table: str, column: str) -> str:
        """Rows per calendar month (`month` = first day, a DATE; `count`), NULLs excluded, oldest first.
        Timestamps with time zone are bucketed in the session time zone (UTC in BigQuery)."""
        tbl = self._table(schema, table)
        col_meta = self._column(tbl, column, field="column")
        if col_meta.kind not in (ColumnKind.DATE, ColumnKind.DATETIME):
            raise field_error("column", "A date histogram needs a date or datetime column.")
        col = column_ref(col_meta.name)
        as_date = exp.Cast(this=col, to=exp.DataType.build("DATE"))
        date_trunc: Callable[..., exp.Expr] = exp.DateTrunc  # its __init__ is untyped
        month = exp.Cast(this=date_trunc(unit=exp.var("MONTH"), this=as_date), to=exp.DataType.build("DATE"))
        select = (
            exp.Select(expressions=[_alias(month, "month"), _alias(_count_star(), "count")])
            .from_(table_ref(tbl.schema, tbl.name), copy=False)
            .where(exp.Not(this=exp.Is(this=col.copy(), expression=exp.Null())), copy=False)
            .group_by(_position(1), copy=False)
        )
        select.set("order", exp.Order(expressions=[exp.Ordered(this=_position(1), desc=False)]))
        return self._sql(select)

    def numeric_histogram(self, *, schema: str, table: str, column: str, bins: int, low: float, high: float) -> str:
        """Rows per equal-width bin of [low, high]: `bucket` 0..bins-1 (high itself falls in the last),
        `count`; values outside [low, high] and NULLs are left out; empty bins are not returned.
        With low == high every counted value is in bucket 0."""
        tbl = self._table(schema, table)
        col_meta = self._column(tbl, column, field="column")
        if col_meta.kind != ColumnKind.NUMBER:
            raise field_error("column", "A numeric histogram needs a number column.")
        bins = _int_param(bins, field="bins", low=1, high=MAX_BINS)
        low_f = _float_param(low, field="low")
        high_f = _float_param(high, field="high")
        if high_f < low_f:
            raise field_error("high", "Must be at least low.")
        col = column_ref(col_meta.name)
        as_double = exp.Cast(this=col, to=exp.DataType.build("DOUBLE"))
        low_lit = number_literal(low_f, field="low")
        high_lit = number_literal(high_f, field="high")
        in_range = exp.and_(
            exp.GTE(this=as_double.copy(), expression=low_lit.copy()),
            exp.LTE(this=as_double.copy(), expression=high_lit),
        )
        if high_f == low_f:  # one bucket; no GROUP BY (a literal there would mean "column 0")
            one = (
                exp.Select(expressions=[_alias(exp.Literal.number(0), "bucket"), _alias(_count_star(), "count")])
                .from_(table_ref(tbl.schema, tbl.name), copy=False)
                .where(in_range, copy=False)
                .having(exp.GT(this=_count_star(), expression=exp.Literal.number(0)), copy=False)
            )
            return self._sql(one)
        width = number_literal(high_f - low_f, field="high")
        scaled = exp.Div(
            this=exp.Mul(
                this=exp.Paren(this=exp.Sub(this=as_double.copy(), expression=low_lit.copy())),
                expression=exp.Literal.number(bins),
            ),
            expression=width,
        )
        floored = exp.Cast(this=exp.Floor(this=scaled), to=exp.DataType.build("BIGINT"))
        last = exp.Literal.number(bins - 1)
        bucket = exp.Case(  # `high` itself belongs to the last bucket
            ifs=[exp.If(this=exp.GTE(this=floored, expression=last), true=last.copy())], default=floored.copy()
        )
        select = (
            exp.Select(expressions=[_alias(bucket, "bucket"), _alias(_count_star(), "count")])
            .from_(table_ref(tbl.schema, tbl.name), copy=False)
            .where(in_range, copy=False)
            .group_by(_position(1), copy=False)
        )
        select.set("order", exp.Order(expressions=[exp.Ordered(this=_position(1), desc=False)]))
        return self._sql(select)


def parse_column_profile(
    *, columns: Sequence[Column], result_columns: Sequence[str], row: Sequence[Any] | Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The row of `column_profile` as `{column name: {"count": rows, "nulls": ..., "distinct": ..., ...}}`."""
    values: Mapping[str, Any] = row if isinstance(row, Mapping) else dict(zip(result_columns, row, strict=True))
    lowered = {str(k).lower(): v for k, v in values.items()}
    total = lowered[ROW_COUNT_ALIAS]
    profile: dict[str, dict[str, Any]] = {}
    for index, column in enumerate(columns):
        stats: dict[str, Any] = {"count": total}
        for stat in PROFILE_STATS[column.kind]:
            stats[stat] = lowered[profile_alias(index, stat)]
        profile[column.name] = stats
    return profile
