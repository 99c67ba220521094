"""SqlBuilder against real engines: every generated query runs on an in-memory DuckDB and on a real
PostgreSQL database, and its result is compared with the same computation done in Python.

BigQuery is unreachable from here: its SQL is compiled with sqlglot's BigQuery dialect, checked for
the BigQuery-specific forms, and — where the semantics match — transpiled back to DuckDB with sqlglot
and run there, with the result compared to the DuckDB-native query."""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlglot

from dalgo.core.errors import NotFound, ValidationFailed
from dalgo.warehouses.adapters.base import Catalog, ColumnKind
from dalgo.warehouses.sql import PROFILE_STATS, Filter, SqlBuilder, parse_column_profile
from dalgo.warehouses.tests.test_sql_support import (
    DROP_COL,
    NAMES,
    ODD_ROWS,
    ODD_SCHEMA,
    ODD_TABLE,
    ORDERABLE,
    ROWS,
    SCHEMA,
    TABLE,
    Engine,
    catalog_for,
    table_columns,
)

IDX = {name: i for i, name in enumerate(NAMES)}


def builder(dialect: str) -> SqlBuilder:
    return SqlBuilder(dialect, catalog_for(dialect))


def norm(value: Any) -> Any:
    """Engine values to comparable Python values (JSON text vs parsed JSON, aware datetimes in UTC)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def norm_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(norm(v) for v in row) for row in rows]


def py_sort(rows: list[tuple[Any, ...]], order: list[tuple[str, bool]]) -> list[tuple[Any, ...]]:
    """Stable multi-pass sort, NULLs last in both directions (the builder's rule)."""
    out = list(rows)
    for name, desc in reversed(order):
        i = IDX[name]
        present = sorted((r for r in out if r[i] is not None), key=lambda r: r[i], reverse=desc)
        out = present + [r for r in out if r[i] is None]
    return out


def full_order(sort: list[tuple[str, str]]) -> list[tuple[str, bool]]:
    used = [(name, d == "desc") for name, d in sort]
    return used + [(name, False) for name in ORDERABLE if name not in dict(sort)]


# ---- preview / count / select_all ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "columns", "limit", "offset"),
    [
        ([("amount", "desc"), ("name", "asc")], ["id", "name", "amount", "seen_at"], 7, 3),
        ([], None, 10_000, 0),
        ([("seen_at", "asc")], ["seen_at", DROP_COL, 'a"b', "हिंदी 👍", "meta"], 5, 60),
        ([(DROP_COL, "desc"), ("select", "desc"), ("local_at", "desc")], ["id", "select"], 20, 0),
        ([("active", "asc"), ("joined", "desc")], ["id", "active", "joined"], 100, 2),
    ],
)
def test_preview_matches_python(
    engine: Engine, sort: list[tuple[str, str]], columns: list[str] | None, limit: int, offset: int
) -> None:
    sql = builder(engine.dialect).preview(
        schema=SCHEMA, table=TABLE, columns=columns, sort=sort, limit=limit, offset=offset
    )
    names, rows = engine.run(sql)
    cols = columns or NAMES
    assert names == cols
    expected = [tuple(r[IDX[c]] for c in cols) for r in py_sort(ROWS, full_order(sort))][offset : offset + limit]
    assert norm_rows(rows) == norm_rows(expected)


def test_preview_is_deterministic_and_pages_partition(engine: Engine) -> None:
    b = builder(engine.dialect)
    pages = [
        engine.run(b.preview(schema=SCHEMA, table=TABLE, columns=["id"], sort=[("active", "asc")], limit=10, offset=o))[
            1
        ]
        for o in range(0, 70, 10)
    ]
    ids = [r[0] for page in pages for r in page]
    assert sorted(ids) == [r[0] for r in ROWS]  # no row lost or repeated across pages
    again = engine.run(
        b.preview(schema=SCHEMA, table=TABLE, columns=["id"], sort=[("active", "asc")], limit=10, offset=20)
    )[1]
    assert again == pages[2]


def test_count_and_select_all(engine: Engine) -> None:
    b = builder(engine.dialect)
    assert engine.run(b.count(schema=SCHEMA, table=TABLE))[1] == [(len(ROWS),)]
    names, rows = engine.run(b.select_all(schema=SCHEMA, table=TABLE, columns=["id", "हिंदी 👍", DROP_COL]))
    assert names == ["id", "हिंदी 👍", DROP_COL]
    assert sorted(rows) == sorted((r[0], r[IDX["हिंदी 👍"]], r[IDX[DROP_COL]]) for r in ROWS)
    names, rows = engine.run(b.select_all(schema=ODD_SCHEMA, table=ODD_TABLE))
    assert sorted(rows) == ODD_ROWS
    assert names == ["k", "v'\"`"]


def _ts(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _cmp(name: str, fn: Any) -> Any:
    return lambda r: r[IDX[name]] is not None and fn(r[IDX[name]])


FILTER_CASES: list[tuple[list[Filter], Any]] = [
    ([Filter("name", "=", "O'Brien")], _cmp("name", lambda v: v == "O'Brien")),
    ([Filter("name", "!=", "Asha")], _cmp("name", lambda v: v != "Asha")),
    ([Filter("name", "contains", "50%")], _cmp("name", lambda v: "50%" in v)),
    ([Filter("name", "contains", "_")], _cmp("name", lambda v: "_" in v)),
    ([Filter("name", "contains", "\\")], _cmp("name", lambda v: "\\" in v)),
    ([Filter("name", "contains", "'")], _cmp("name", lambda v: "'" in v)),
    ([Filter("name", "starts with", "आ")], _cmp("name", lambda v: v.startswith("आ"))),
    ([Filter("name", "starts with", "%")], _cmp("name", lambda v: v.startswith("%"))),
    ([Filter("name", "in", ["Asha", "🙂", "nobody"])], _cmp("name", lambda v: v in ("Asha", "🙂"))),
    ([Filter("name", "not in", ["Asha", ""])], _cmp("name", lambda v: v not in ("Asha", ""))),
    ([Filter("name", "is null")], lambda r: r[IDX["name"]] is None),
    ([Filter("name", "between", ["A", "Z"])], _cmp("name", lambda v: "A" <= v <= "Z")),
    ([Filter("amount", ">", -5.5)], _cmp("amount", lambda v: v > Decimal("-5.5"))),
    ([Filter("amount", "between", ["0", 1000])], _cmp("amount", lambda v: 0 <= v <= 1000)),
    ([Filter("amount", "<=", Decimal("100.25"))], _cmp("amount", lambda v: v <= Decimal("100.25"))),
    ([Filter("score", ">=", 50)], _cmp("score", lambda v: v >= 50)),
    ([Filter("id", "in", [1, 2, 3, 999])], _cmp("id", lambda v: v in (1, 2, 3))),
    ([Filter("id", "not in", [1, 2])], _cmp("id", lambda v: v not in (1, 2))),
    ([Filter("active", "=", True)], _cmp("active", lambda v: v is True)),
    ([Filter("active", "!=", True)], _cmp("active", lambda v: v is False)),
    ([Filter("active", "is not null")], lambda r: r[IDX["active"]] is not None),
    ([Filter("joined", ">=", "2024-01-01")], _cmp("joined", lambda v: v >= date(2024, 1, 1))),
    (
        [Filter("joined", "between", ["2023-03-01", date(2023, 6, 30)])],
        _cmp("joined", lambda v: date(2023, 3, 1) <= v <= date(2023, 6, 30)),
    ),
    (
        [Filter("seen_at", "<", "2024-03-01T00:00:00+05:30")],
        _cmp("seen_at", lambda v: v < _ts("2024-03-01T00:00:00+05:30")),
    ),
    ([Filter("seen_at", ">=", "2024-05-01 00:00:00")], _cmp("seen_at", lambda v: v >= _ts("2024-05-01T00:00:00"))),
    ([Filter("local_at", ">", "2024-03-15T12:00:00")], _cmp("local_at", lambda v: v > datetime(2024, 3, 15, 12))),
    ([Filter("meta", "is null")], lambda r: r[IDX["meta"]] is None),
    ([Filter("select", "=", "from")], _cmp("select", lambda v: v == "from")),
    ([Filter('a"b', ">", 3), Filter(DROP_COL, "=", 1)], lambda r: r[IDX['a"b']] > 3 and r[IDX[DROP_COL]] == 1),
    (
        [Filter("हिंदी 👍", "=", "नमस्ते"), Filter("dot.ted", "<", 300), Filter("with space", "!=", "space 0")],
        lambda r: r[IDX["हिंदी 👍"]] == "नमस्ते" and r[IDX["dot.ted"]] < 300 and r[IDX["with space"]] != "space 0",
    ),
    (
        [Filter("name", "=", "'; DROP TABLE sales.canary; --")],
        _cmp("name", lambda v: v == "'; DROP TABLE sales.canary; --"),
    ),
]


@pytest.mark.parametrize(("filters", "predicate"), FILTER_CASES)
def test_filters_match_python(engine: Engine, filters: list[Filter], predicate: Any) -> None:
    b = builder(engine.dialect)
    expected = sorted(r[0] for r in ROWS if predicate(r))
    assert engine.run(b.count(schema=SCHEMA, table=TABLE, filters=filters))[1] == [(len(expected),)]
    rows = engine.run(b.preview(schema=SCHEMA, table=TABLE, columns=["id"], limit=10_000, offset=0, filters=filters))[1]
    assert sorted(r[0] for r in rows) == expected


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({"sort": [("id", "up")]}, "sort"),
        ({"sort": [("id", "asc; DROP TABLE x")]}, "sort"),
        ({"sort": [("nope", "asc")]}, "sort"),
        ({"sort": [("meta", "asc")]}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"limit": True}, "limit"),
        ({"offset": -1}, "offset"),
        ({"columns": ["nope"]}, "columns"),
        ({"columns": []}, "columns"),
        ({"filters": [Filter("nope", "=", 1)]}, "filters.0.column"),
        ({"filters": [Filter("id", "=", 1), Filter("id", "like", 1)]}, "filters.1.op"),
        ({"filters": [Filter("id", "contains", "1")]}, "filters.0.op"),
        ({"filters": [Filter("id", "=", "1 OR 1=1")]}, "filters.0.value"),
        ({"filters": [Filter("id", "=", float("nan"))]}, "filters.0.value"),
        ({"filters": [Filter("id", "=", True)]}, "filters.0.value"),
        ({"filters": [Filter("id", "=", None)]}, "filters.0.value"),
        ({"filters": [Filter("id", "is null", 1)]}, "filters.0.value"),
        ({"filters": [Filter("id", "in", [])]}, "filters.0.value"),
        ({"filters": [Filter("id", "in", list(range(1001)))]}, "filters.0.value"),
        ({"filters": [Filter("id", "in", [1, "x"])]}, "filters.0.value.1"),
        ({"filters": [Filter("id", "between", [1])]}, "filters.0.value"),
        ({"filters": [Filter("name", "=", 5)]}, "filters.0.value"),
        ({"filters": [Filter("name", "=", "a\x00b")]}, "filters.0.value"),
        ({"filters": [Filter("active", "=", "true")]}, "filters.0.value"),
        ({"filters": [Filter("joined", "=", "2024-13-01")]}, "filters.0.value"),
        ({"filters": [Filter("seen_at", ">", "yesterday")]}, "filters.0.value"),
        ({"filters": [Filter("meta", "=", "{}")]}, "filters.0.op"),
    ],
)
def test_preview_validation(call: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"schema": SCHEMA, "table": TABLE, "limit": 10, "offset": 0} | call
    with pytest.raises(ValidationFailed) as info:
        builder("duckdb").preview(**args)
    assert field in info.value.fields


def test_unknown_tables_are_not_found() -> None:
    b = builder("postgres")
    for schema, table in [("sales", "nope"), ("nope", "people"), ("SALES", "people"), ("sales", "People")]:
        with pytest.raises(NotFound) as info:
            b.count(schema=schema, table=table)
        assert info.value.code == "table_not_found"


# ---- profile, top values, histograms ------------------------------------------------------------


def py_profile(name: str, kind: ColumnKind) -> dict[str, Any]:
    values = [r[IDX[name]] for r in ROWS]
    present = [v for v in values if v is not None]
    stats: dict[str, Any] = {"count": len(values), "nulls": len(values) - len(present)}
    if kind != ColumnKind.OTHER:
        stats["distinct"] = len(
            {json.dumps(json.loads(v), sort_keys=True) if kind == ColumnKind.JSON else v for v in present}
        )
    if kind == ColumnKind.NUMBER:
        stats |= {
            "min": min(present),
            "max": max(present),
            "mean": statistics.fmean(float(v) for v in present),
            "median": statistics.median(float(v) for v in present),
        }
    if kind in (ColumnKind.DATE, ColumnKind.DATETIME):
        stats |= {"min": min(present), "max": max(present)}
    if kind == ColumnKind.BOOLEAN:
        stats |= {"true": present.count(True), "false": present.count(False)}
    if kind == ColumnKind.TEXT:
        stats |= {"min_length": min(map(len, present)), "max_length": max(map(len, present))}
    return stats


def assert_profile_close(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert set(got) == set(want)
    for stat, expected in want.items():
        value = got[stat]
        if stat in ("mean", "median"):
            assert math.isclose(float(value), expected, rel_tol=1e-9, abs_tol=1e-9), stat
        else:
            assert norm(value) == norm(expected), stat


def test_column_profile(engine: Engine) -> None:
    columns = table_columns(engine.dialect)
    sql = builder(engine.dialect).column_profile(schema=SCHEMA, table=TABLE, columns=columns)
    names, rows = engine.run(sql)
    assert len(rows) == 1
    profile = parse_column_profile(columns=columns, result_columns=names, row=rows[0])
    assert list(profile) == NAMES
    for column in columns:
        assert_profile_close(profile[column.name], py_profile(column.name, column.kind))
        assert set(profile[column.name]) == {"count", *PROFILE_STATS[column.kind]}


def py_top(name: str, limit: int) -> list[tuple[Any, int]]:
    counts = Counter(r[IDX[name]] for r in ROWS if r[IDX[name]] is not None)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


@pytest.mark.parametrize(
    ("column", "limit"),
    [("name", 5), ("select", 10), ("count", 3), ("value", 10), ("active", 10), (DROP_COL, 1), ("joined", 4)],
)
def test_top_values(engine: Engine, column: str, limit: int) -> None:
    names, rows = engine.run(builder(engine.dialect).top_values(schema=SCHEMA, table=TABLE, column=column, limit=limit))
    assert names == ["value", "count"]
    assert rows == py_top(column, limit)


def test_top_values_json(engine: Engine) -> None:
    _, rows = engine.run(builder(engine.dialect).top_values(schema=SCHEMA, table=TABLE, column="meta"))
    got = Counter({json.dumps(json.loads(v), sort_keys=True): c for v, c in rows})
    want = Counter(json.dumps(json.loads(r[IDX["meta"]]), sort_keys=True) for r in ROWS if r[IDX["meta"]])
    assert got == want


@pytest.mark.parametrize("column", ["joined", "seen_at", "local_at"])
def test_date_histogram(engine: Engine, column: str) -> None:
    names, rows = engine.run(builder(engine.dialect).date_histogram(schema=SCHEMA, table=TABLE, column=column))
    assert names == ["month", "count"]

    def month(v: Any) -> date:
        v = v.astimezone(UTC) if isinstance(v, datetime) and v.tzinfo else v
        return date(v.year, v.month, 1)

    want = sorted(Counter(month(r[IDX[column]]) for r in ROWS if r[IDX[column]] is not None).items())
    assert rows == want


def py_hist(name: str, bins: int, low: float, high: float) -> list[tuple[int, int]]:
    counts: Counter[int] = Counter()
    for r in ROWS:
        v = r[IDX[name]]
        if v is None or not (low <= float(v) <= high):
            continue
        counts[0 if high == low else min(math.floor((float(v) - low) * bins / (high - low)), bins - 1)] += 1
    return sorted(counts.items())


@pytest.mark.parametrize(
    ("column", "bins", "low", "high"),
    [
        ("amount", 4, None, None),
        ("score", 7, 0.0, 50.5),
        ("id", 10, 1, 64),
        ("id", 3, 5, 5),
        ("count", 1, 0, 4),
        ("score", 5, 1000, 1000),
    ],
)
def test_numeric_histogram(engine: Engine, column: str, bins: int, low: float | None, high: float | None) -> None:
    present = [float(r[IDX[column]]) for r in ROWS if r[IDX[column]] is not None]
    lo = min(present) if low is None else low
    hi = max(present) if high is None else high
    names, rows = engine.run(
        builder(engine.dialect).numeric_histogram(schema=SCHEMA, table=TABLE, column=column, bins=bins, low=lo, high=hi)
    )
    assert names == ["bucket", "count"]
    assert rows == py_hist(column, bins, lo, hi)
    assert sum(c for _, c in rows) == (len(present) if low is None else sum(c for _, c in rows))


@pytest.mark.parametrize(
    ("method", "args", "field"),
    [
        ("top_values", {"column": "nope"}, "column"),
        ("top_values", {"column": "id", "limit": 0}, "limit"),
        ("date_histogram", {"column": "name"}, "column"),
        ("numeric_histogram", {"column": "name", "bins": 3, "low": 0, "high": 1}, "column"),
        ("numeric_histogram", {"column": "id", "bins": 0, "low": 0, "high": 1}, "bins"),
        ("numeric_histogram", {"column": "id", "bins": 3, "low": 2, "high": 1}, "high"),
        ("numeric_histogram", {"column": "id", "bins": 3, "low": float("inf"), "high": 1}, "low"),
    ],
)
def test_stat_validation(method: str, args: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        getattr(builder("postgres"), method)(schema=SCHEMA, table=TABLE, **args)
    assert field in info.value.fields


# ---- BigQuery: compiled, and run on DuckDB after transpiling where semantics match --------------


def bq_on_duckdb(duck: Engine, sql: str) -> list[tuple[Any, ...]]:
    return duck.run(sqlglot.transpile(sql, read="bigquery", write="duckdb")[0])[1]


def test_bigquery_sql_shapes() -> None:
    b = builder("bigquery")
    sql = b.preview(
        schema=SCHEMA,
        table=TABLE,
        columns=['a"b', DROP_COL],
        limit=5,
        offset=0,
        filters=[
            Filter("name", "contains", "50%_\\"),
            Filter("seen_at", ">", "2024-01-01T00:00:00Z"),
            Filter("local_at", "<", "2024-06-01T00:00:00+02:00"),
        ],
    )
    assert '`a"b`' in sql and "`sales`.`people`" in sql
    assert "LIKE '%50\\\\%\\\\_\\\\\\\\%'" in sql and "ESCAPE" not in sql  # backslash: LIKE's own escape
    assert "CAST('2024-01-01 00:00:00+00:00' AS TIMESTAMP)" in sql
    assert "CAST('2024-05-31 22:00:00' AS DATETIME)" in sql
    profile = b.column_profile(schema=SCHEMA, table=TABLE, columns=table_columns("bigquery"))
    assert "APPROX_QUANTILES(`amount`, 2)[OFFSET(1)]" in profile
    assert "COUNT(DISTINCT TO_JSON_STRING(`meta`))" in profile
    assert '`tab le "q"; --`' in b.count(schema=ODD_SCHEMA, table=ODD_TABLE)
    assert "\\`" in b.select_all(schema=ODD_SCHEMA, table=ODD_TABLE)  # a backtick in a name is escaped
    for text in (profile, sql):
        sqlglot.parse_one(text, read="bigquery")


def bq_legal(dialect: str) -> SqlBuilder:
    """The catalog without names BigQuery cannot have (a dot in a column name): sqlglot's BigQuery
    parser reads a dotted `a.b` as a path, so those could not be transpiled back for this check."""
    tables = tuple(
        dataclasses.replace(t, columns=tuple(c for c in t.columns if "." not in c.name))
        for t in catalog_for(dialect).tables
    )
    return SqlBuilder(dialect, Catalog(tables=tables))


def test_bigquery_transpiled_runs_on_duckdb(duck: Engine) -> None:
    bq, dd = bq_legal("bigquery"), bq_legal("duckdb")
    filters = [
        Filter("name", "contains", "a"),
        Filter("seen_at", ">=", "2024-02-01T00:00:00+05:30"),
        Filter("local_at", "<", "2024-09-01T00:00:00"),
        Filter("amount", "between", [-100, 3000]),
        Filter("joined", "in", ["2023-05-01", date(2024, 1, 1)]),
        Filter("active", "is not null"),
    ]
    for f in ([], filters[:1], filters[1:3], filters[3:], filters):
        for call in (
            lambda b, f=f: b.count(schema=SCHEMA, table=TABLE, filters=f),
            lambda b, f=f: b.preview(
                schema=SCHEMA,
                table=TABLE,
                columns=["id", "name", "seen_at"],
                filters=f,
                sort=[("amount", "desc")],
                limit=9,
                offset=2,
            ),
        ):
            assert bq_on_duckdb(duck, call(bq)) == duck.run(call(dd))[1]
    for column in ("name", "हिंदी 👍", "joined"):
        sql = bq.top_values(schema=SCHEMA, table=TABLE, column=column, limit=4)
        assert bq_on_duckdb(duck, sql) == py_top(column, 4)
    for column in ("joined", "local_at"):
        assert (
            bq_on_duckdb(duck, bq.date_histogram(schema=SCHEMA, table=TABLE, column=column))
            == duck.run(dd.date_histogram(schema=SCHEMA, table=TABLE, column=column))[1]
        )
    assert bq_on_duckdb(
        duck, bq.numeric_histogram(schema=SCHEMA, table=TABLE, column="score", bins=6, low=-10, high=100)
    ) == py_hist("score", 6, -10, 100)
    columns = [c for c in table_columns("bigquery") if c.kind != ColumnKind.JSON and "." not in c.name]
    sql = bq.column_profile(schema=SCHEMA, table=TABLE, columns=columns)
    result_columns = [e.alias_or_name for e in sqlglot.parse_one(sql, read="bigquery").expressions]
    profile = parse_column_profile(columns=columns, result_columns=result_columns, row=bq_on_duckdb(duck, sql)[0])
    for column in columns:
        want = py_profile(column.name, column.kind)
        if "median" in want:  # APPROX_QUANTILES is approximate in BigQuery; DuckDB's approx_quantile too
            present = sorted(float(r[IDX[column.name]]) for r in ROWS if r[IDX[column.name]] is not None)
            assert present[0] <= float(profile[column.name].pop("median")) <= present[-1]
            want.pop("median")
        assert_profile_close(profile[column.name], want)
