"""WHERE clauses from `Filter(column, op, value)`: columns from the catalog, operators from an
allowlist per column kind, values validated against the column kind and bound as typed literals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from dalgo.core.errors import field_error
from dalgo.warehouses.adapters.base import Column, ColumnKind, Table
from dalgo.warehouses.sql._common import (
    boolean_literal,
    column_ref,
    date_literal,
    datetime_literal,
    is_tz_aware,
    number_literal,
    string_literal,
)

MAX_IN_VALUES = 1000

COMPARISONS: dict[str, type[exp.Binary]] = {
    "=": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}
NULL_OPS = frozenset({"is null", "is not null"})
LIST_OPS = frozenset({"in", "not in"})
TEXT_OPS = frozenset({"contains", "starts with"})
OPS = frozenset({*COMPARISONS, *NULL_OPS, *LIST_OPS, "between", *TEXT_OPS})

_ORDERED = frozenset({*COMPARISONS, *NULL_OPS, *LIST_OPS, "between"})
OPS_BY_KIND: dict[ColumnKind, frozenset[str]] = {
    ColumnKind.NUMBER: _ORDERED,
    ColumnKind.DATE: _ORDERED,
    ColumnKind.DATETIME: _ORDERED,
    ColumnKind.TEXT: OPS,
    ColumnKind.BOOLEAN: frozenset({"=", "!=", *NULL_OPS}),
    ColumnKind.JSON: NULL_OPS,
    ColumnKind.OTHER: NULL_OPS,
}


@dataclass(frozen=True)
class Filter:
    """One condition on one column: `Filter("age", ">=", 18)`, `Filter("state", "in", ["KA", "MH"])`,
    `Filter("name", "contains", "50%")`, `Filter("closed_at", "is null")`."""

    column: str
    op: str
    value: Any = None


def _value_literal(column: Column, value: object, *, field: str, dialect: str) -> exp.Expr:
    if value is None:
        raise field_error(field, "A value is required (use 'is null' to match missing values).")
    if column.kind == ColumnKind.NUMBER:
        return number_literal(value, field=field)
    if column.kind == ColumnKind.TEXT:
        return string_literal(value, field=field)
    if column.kind == ColumnKind.BOOLEAN:
        return boolean_literal(value, field=field)
    if column.kind == ColumnKind.DATE:
        return date_literal(value, field=field)
    if column.kind == ColumnKind.DATETIME:
        return datetime_literal(value, field=field, tz_aware=is_tz_aware(column, dialect))
    raise field_error(field, f"Values cannot be compared on a {column.kind} column.")


def _escape_like(value: str, dialect: str) -> str:
    r"""Escape LIKE wildcards with a backslash. Postgres and DuckDB get an explicit ESCAPE '\';
    in BigQuery the backslash is LIKE's built-in escape character."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(col: exp.Expr, pattern: str, *, dialect: str) -> exp.Expr:
    like = exp.Like(this=col, expression=exp.Literal.string(pattern))
    if dialect == "bigquery":
        return like
    return exp.Escape(this=like, expression=exp.Literal.string("\\"))


def filter_condition(table: Table, flt: Filter, *, index: int, dialect: str) -> exp.Expr:
    prefix = f"filters.{index}"
    if not isinstance(flt.column, str) or table.column(flt.column) is None:
        raise field_error(f"{prefix}.column", f"Unknown column in {table.schema}.{table.name}.")
    column = table.column(flt.column)
    assert column is not None
    op = flt.op.strip().lower() if isinstance(flt.op, str) else ""
    op = " ".join(op.split())
    if op not in OPS:
        raise field_error(f"{prefix}.op", f"Unknown operator; expected one of: {', '.join(sorted(OPS))}.")
    if op not in OPS_BY_KIND[column.kind]:
        raise field_error(f"{prefix}.op", f"Operator {op!r} does not apply to a {column.kind} column.")
    col = column_ref(column.name)
    vfield = f"{prefix}.value"

    if op in NULL_OPS:
        if flt.value is not None:
            raise field_error(vfield, f"Operator {op!r} takes no value.")
        is_null = exp.Is(this=col, expression=exp.Null())
        return is_null if op == "is null" else exp.Not(this=is_null)
    if op in COMPARISONS:
        return COMPARISONS[op](this=col, expression=_value_literal(column, flt.value, field=vfield, dialect=dialect))
    if op in LIST_OPS:
        values = flt.value
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | set | frozenset):
            raise field_error(vfield, "Expected a list of values.")
        items = list(values)
        if not items:
            raise field_error(vfield, "The list of values is empty.")
        if len(items) > MAX_IN_VALUES:
            raise field_error(vfield, f"At most {MAX_IN_VALUES} values are allowed.")
        literals = [_value_literal(column, v, field=f"{vfield}.{i}", dialect=dialect) for i, v in enumerate(items)]
        in_ = exp.In(this=col, expressions=literals)
        return in_ if op == "in" else exp.Not(this=in_)
    if op == "between":
        values = flt.value
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or len(values) != 2:
            raise field_error(vfield, "Expected two values: [low, high].")
        low = _value_literal(column, values[0], field=f"{vfield}.0", dialect=dialect)
        high = _value_literal(column, values[1], field=f"{vfield}.1", dialect=dialect)
        return exp.Between(this=col, low=low, high=high)
    # contains / starts with: text only (guaranteed by OPS_BY_KIND)
    string_literal(flt.value, field=vfield)  # validates type, length, NUL
    escaped = _escape_like(flt.value, dialect)
    pattern = f"%{escaped}%" if op == "contains" else f"{escaped}%"
    return _like(col, pattern, dialect=dialect)


def where_condition(table: Table, filters: Sequence[Filter], *, dialect: str) -> exp.Expr | None:
    """All filters ANDed together, or None when there are none."""
    if isinstance(filters, str | bytes):
        raise field_error("filters", "Expected a list of filters.")
    conditions = []
    for index, flt in enumerate(filters):
        if not isinstance(flt, Filter):
            raise field_error(f"filters.{index}", "Expected a filter (column, op, value).")
        conditions.append(filter_condition(table, flt, index=index, dialect=dialect))
    if not conditions:
        return None
    combine: Callable[..., exp.Expr] = exp.and_
    return combine(*conditions, copy=False)
