"""Shared pieces of the SQL builder: dialects, quoted identifiers, typed literals, rendering.

Nothing here formats user input into SQL text: identifiers become quoted `exp.Identifier`s, values
become sqlglot literals (escaped by sqlglot for the dialect), and the tree is rendered at the end.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlglot import exp
from sqlglot.errors import ErrorLevel

from dalgo.core.errors import ValidationFailed, field_error
from dalgo.warehouses.adapters.base import Column

DIALECTS = frozenset({"duckdb", "postgres", "bigquery"})
MAX_STRING_VALUE = 10_000  # characters in one filter value
MAX_NUMBER_DIGITS = 80
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise ValidationFailed(
            f"Unsupported SQL dialect {dialect!r}: expected one of {', '.join(sorted(DIALECTS))}.",
            fields={"dialect": "unsupported dialect"},
        )
    return dialect


def render(expression: exp.Expr, dialect: str) -> str:
    """The SQL text of a tree, for one dialect; fails loudly rather than emit a half-supported construct."""
    return expression.sql(dialect=dialect, comments=False, unsupported_level=ErrorLevel.RAISE)


def ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def table_ref(schema: str, name: str) -> exp.Table:
    return exp.Table(this=ident(name), db=ident(schema))


def column_ref(name: str) -> exp.Column:
    return exp.Column(this=ident(name))


def is_tz_aware(column: Column, dialect: str) -> bool:
    """Whether a datetime column holds instants (timestamptz / BigQuery TIMESTAMP) or wall-clock times."""
    native = column.type.lower()
    if "without time zone" in native:
        return False
    if "with time zone" in native or "timestamptz" in native:
        return True
    return dialect == "bigquery" and native.startswith("timestamp")


# ---- literals -------------------------------------------------------------------------------


def number_literal(value: object, *, field: str) -> exp.Expr:
    """A numeric literal from an int, float, Decimal or numeric string; anything else is refused."""
    if isinstance(value, bool):
        raise field_error(field, "Expected a number, got a boolean.")
    text: str
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise field_error(field, "Expected a finite number.")
        text = format(Decimal(repr(value)), "f")
    elif isinstance(value, Decimal | str):
        if isinstance(value, str) and not _NUMBER_TEXT.fullmatch(value.strip()):
            raise field_error(field, "Expected a number.")
        try:
            dec = Decimal(value.strip()) if isinstance(value, str) else value
        except InvalidOperation:
            raise field_error(field, "Expected a number.") from None
        if not dec.is_finite():
            raise field_error(field, "Expected a finite number.")
        text = format(dec, "f")
    else:
        raise field_error(field, f"Expected a number, got {type(value).__name__}.")
    negative = text.startswith("-")
    digits = text.lstrip("-")
    if len(digits) > MAX_NUMBER_DIGITS:
        raise field_error(field, "Number is too long.")
    literal: exp.Expr = exp.Literal.number(digits)
    return exp.Neg(this=literal) if negative else literal


def string_literal(value: object, *, field: str) -> exp.Literal:
    if not isinstance(value, str):
        raise field_error(field, f"Expected text, got {type(value).__name__}.")
    if "\x00" in value:
        raise field_error(field, "Text may not contain NUL characters.")
    if len(value) > MAX_STRING_VALUE:
        raise field_error(field, f"Text is longer than {MAX_STRING_VALUE} characters.")
    return exp.Literal.string(value)


def boolean_literal(value: object, *, field: str) -> exp.Boolean:
    if not isinstance(value, bool):
        raise field_error(field, f"Expected true or false, got {type(value).__name__}.")
    return exp.Boolean(this=value)


def date_literal(value: object, *, field: str) -> exp.Cast:
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise field_error(field, "Expected a date like 2024-01-31.") from None
    else:
        raise field_error(field, f"Expected a date, got {type(value).__name__}.")
    return exp.Cast(this=exp.Literal.string(parsed.isoformat()), to=exp.DataType.build("DATE"))


def datetime_literal(value: object, *, field: str, tz_aware: bool) -> exp.Cast:
    """CAST of a validated ISO timestamp. For instant columns a naive value is taken as UTC; for
    wall-clock columns an aware value is converted to UTC and its offset dropped."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)  # noqa: DTZ001 - made aware below if needed
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise field_error(field, "Expected a date and time like 2024-01-31T13:45:00Z.") from None
    else:
        raise field_error(field, f"Expected a date and time, got {type(value).__name__}.")
    if tz_aware:
        aware = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        text = aware.astimezone(UTC).isoformat(sep=" ")
        return exp.Cast(this=exp.Literal.string(text), to=exp.DataType.build("TIMESTAMPTZ"))
    naive = parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo is not None else parsed
    return exp.Cast(this=exp.Literal.string(naive.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))
