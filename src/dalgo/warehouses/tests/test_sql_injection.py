"""Injection corpus against every entry point of warehouses.sql, on real DuckDB and PostgreSQL.

Identifiers (schema, table, columns, sort, filter columns, stats columns) are either refused because
the catalog does not have them, or — for the hostile names seeded in the catalog — quoted so the
query runs and touches only that column. Values are bound as typed literals: text payloads match
only rows holding exactly that text; a payload where a number/date/boolean is expected is refused.
Free SQL attacks are refused with "unsafe_sql". "Nothing unintended executes" is proved by a canary
table every injected DROP/DELETE would destroy, by timing every query (an injected pg_sleep(3)
would show), by a marker file no read_csv ever returns, and by a file COPY ... TO PROGRAM would
create. Hypothesis-generated column names run through preview/count/profile on DuckDB."""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dalgo.core.errors import NotFound, ValidationFailed
from dalgo.warehouses.adapters.base import Catalog, Column, ColumnKind, Table
from dalgo.warehouses.sql import Filter, SqlBuilder, free_sql_check, parse_column_profile
from dalgo.warehouses.tests.test_sql_support import (
    CANARY_ROWS,
    DROP_COL,
    INJECTED_NAMES,
    NAMES,
    ROWS,
    SCHEMA,
    TABLE,
    Engine,
    catalog_for,
    q,
)

MARKER_DIR = Path(f"/tmp/dalgo_sqltest_{os.getpid()}")
MARKER = MARKER_DIR / "secret.csv"
SECRET = f"SECRET_{os.getpid()}_do_not_read"
PWNED = MARKER_DIR / "pwned"
SLOW = 1.5  # seconds: every query here takes milliseconds; an injected pg_sleep(3) would not

PAYLOADS = [
    "'",
    '"',
    "\\",
    "\\'",
    "`",
    "';--",
    '";--',
    "people; DROP TABLE sales.canary; --",
    "x'; DROP TABLE sales.canary; --",
    'x"; DROP TABLE sales.canary; --',
    "'; DELETE FROM sales.canary; --",
    "1 OR 1=1",
    "' OR '1'='1",
    "1) OR (1=1",
    "/* comment */ people",
    "*/ DROP TABLE sales.canary /*",
    "-- comment",
    "people -- ",
    "x\x00y",
    "people\uff1b DROP TABLE sales.canary",  # fullwidth semicolon
    "\uff07 OR \uff071\uff07=\uff071",  # fullwidth apostrophes
    "реорlе",  # Cyrillic look-alikes of "people"
    "sаles",  # Cyrillic "a"
    "people\u200b",  # zero-width space
    "'; SELECT pg_sleep(3); --",
    "1; SELECT pg_sleep(3)",
    "' || pg_sleep(3) || '",
    f"'); COPY sales.canary TO PROGRAM 'touch {PWNED}'; --",
    "'; ATTACH '/tmp/evil.duckdb' AS evil; --",
    f"' UNION SELECT * FROM read_csv('{MARKER}') --",
    f"x' UNION ALL SELECT column0 FROM read_csv_auto('{MARKER}', header=false) --",
    "'; INSTALL httpfs; LOAD httpfs; --",
    "'; SET search_path TO pg_catalog; --",
    "'; PRAGMA database_list; --",
    "$1",
    "?",
    "%s",
    "{0}",
    "\\x27; DROP TABLE sales.canary; --",
    "a\nb; DROP TABLE sales.canary",
    "CAST(1 AS INT)",
    "sales.people",
    'sales"."people',
    "Sales",
    " people",
]


@pytest.fixture(scope="module", autouse=True)
def marker_file() -> Any:
    MARKER_DIR.mkdir(exist_ok=True)
    MARKER.write_text(f"{SECRET}\n{SECRET}\n")
    yield
    assert not PWNED.exists(), "COPY ... TO PROGRAM ran"
    MARKER.unlink()
    MARKER_DIR.rmdir()


def builder(dialect: str) -> SqlBuilder:
    return SqlBuilder(dialect, catalog_for(dialect))


def run_guarded(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    elapsed, rows = engine.timed(sql)
    assert elapsed < SLOW, f"query took {elapsed:.2f}s: {sql[:200]}"
    assert SECRET not in repr(rows)
    return rows


# ---- identifiers ------------------------------------------------------------------------------


def _calls(schema: str, table: str) -> list[Any]:
    return [
        lambda b: b.preview(schema=schema, table=table, limit=5, offset=0),
        lambda b: b.count(schema=schema, table=table),
        lambda b: b.select_all(schema=schema, table=table),
        lambda b: b.column_profile(schema=schema, table=table, columns=[Column("id", "INTEGER", ColumnKind.NUMBER)]),
        lambda b: b.top_values(schema=schema, table=table, column="id"),
        lambda b: b.date_histogram(schema=schema, table=table, column="joined"),
        lambda b: b.numeric_histogram(schema=schema, table=table, column="id", bins=3, low=0, high=1),
    ]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery"])
def test_schema_and_table_payloads_are_not_found(dialect: str) -> None:
    b = builder(dialect)
    for payload in PAYLOADS:
        for schema, table in [
            (payload, TABLE),
            (SCHEMA, payload),
            (f"{SCHEMA}{payload}", TABLE),
            (SCHEMA, f"{TABLE}{payload}"),
        ]:
            for call in _calls(schema, table):
                with pytest.raises(NotFound) as info:
                    call(b)
                assert info.value.code == "table_not_found", payload


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery"])
def test_column_payloads_are_refused_with_their_field(dialect: str) -> None:
    for payload in [*PAYLOADS, "id; DROP TABLE sales.canary", 'id"', "ID", "id "]:
        _column_payload_refused(builder(dialect), payload)


def _column_payload_refused(b: SqlBuilder, payload: str) -> None:
    page = {"schema": SCHEMA, "table": TABLE, "limit": 5, "offset": 0}
    cases: list[tuple[Any, str]] = [
        (lambda: b.preview(**page, columns=["id", payload]), "columns"),
        (lambda: b.select_all(schema=SCHEMA, table=TABLE, columns=[payload]), "columns"),
        (lambda: b.preview(**page, sort=[(payload, "asc")]), "sort"),
        (lambda: b.preview(**page, sort=[("id", payload)]), "sort"),
        (lambda: b.preview(**page, filters=[Filter(payload, "=", "x")]), "filters.0.column"),
        (lambda: b.count(schema=SCHEMA, table=TABLE, filters=[Filter("name", payload, "x")]), "filters.0.op"),
        (lambda: b.top_values(schema=SCHEMA, table=TABLE, column=payload), "column"),
        (lambda: b.date_histogram(schema=SCHEMA, table=TABLE, column=payload), "column"),
        (lambda: b.numeric_histogram(schema=SCHEMA, table=TABLE, column=payload, bins=2, low=0, high=1), "column"),
        (
            lambda: b.column_profile(schema=SCHEMA, table=TABLE, columns=[Column(payload, "TEXT", ColumnKind.TEXT)]),
            "columns",
        ),
    ]
    for call, field in cases:
        with pytest.raises(ValidationFailed) as info:
            call()
        assert field in info.value.fields, (field, payload)


HOSTILE_COLUMNS = [DROP_COL, 'a"b', "select", "dot.ted", "with space", "हिंदी 👍", "count", "value"]


def test_hostile_catalog_names_touch_only_their_column(engine: Engine) -> None:
    b = builder(engine.dialect)
    idx = {n: i for i, n in enumerate(NAMES)}
    for name in HOSTILE_COLUMNS:
        sql = b.preview(
            schema=SCHEMA,
            table=TABLE,
            columns=[name],
            sort=[(name, "desc")],
            limit=10_000,
            offset=0,
            filters=[Filter(name, "is not null")],
        )
        rows = run_guarded(engine, sql)
        assert sorted(r[0] for r in rows) == sorted(r[idx[name]] for r in ROWS if r[idx[name]] is not None)
        run_guarded(engine, b.top_values(schema=SCHEMA, table=TABLE, column=name))
        run_guarded(engine, b.count(schema=SCHEMA, table=TABLE, filters=[Filter(name, "is null")]))
    assert engine.canary_count() == CANARY_ROWS


# ---- values -----------------------------------------------------------------------------------


def test_text_value_payloads_are_literals(engine: Engine) -> None:
    for payload in [p for p in PAYLOADS if "\x00" not in p] + INJECTED_NAMES:
        _text_payload_is_literal(engine, payload)
    assert engine.canary_count() == CANARY_ROWS


def _text_payload_is_literal(engine: Engine, payload: str) -> None:
    b = builder(engine.dialect)
    names = [r[1] for r in ROWS]
    checks = [
        (Filter("name", "=", payload), sum(n == payload for n in names)),
        (Filter("name", "!=", payload), sum(n is not None and n != payload for n in names)),
        (Filter("name", "contains", payload), sum(n is not None and payload in n for n in names)),
        (Filter("name", "starts with", payload), sum(n is not None and n.startswith(payload) for n in names)),
        (Filter("name", "in", [payload, "Asha"]), sum(n in (payload, "Asha") for n in names)),
        (Filter("name", "between", [payload, payload]), sum(n == payload for n in names)),
        (Filter("select", "not in", [payload]), sum(r[9] is not None and r[9] != payload for r in ROWS)),
    ]
    for flt, expected in checks:
        assert run_guarded(engine, b.count(schema=SCHEMA, table=TABLE, filters=[flt])) == [(expected,)], flt
        rows = run_guarded(
            engine, b.preview(schema=SCHEMA, table=TABLE, columns=["name"], limit=10_000, offset=0, filters=[flt])
        )
        assert len(rows) == expected, flt


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery"])
def test_typed_value_payloads_are_refused(dialect: str) -> None:
    for payload in PAYLOADS:
        _typed_payload_refused(builder(dialect), payload)


def _typed_payload_refused(b: SqlBuilder, payload: str) -> None:
    for column in ("id", "amount", "joined", "seen_at", "local_at", "active"):
        for flt, field in [
            (Filter(column, "=", payload), "filters.0.value"),
            (
                Filter(column, "in", [1, payload]) if column in ("id", "amount") else Filter(column, "=", payload),
                "filters.0.value",
            ),
        ]:
            with pytest.raises(ValidationFailed) as info:
                b.count(schema=SCHEMA, table=TABLE, filters=[flt])
            assert any(k.startswith(field) for k in info.value.fields), (column, payload)
    if "\x00" in payload:
        with pytest.raises(ValidationFailed):
            b.count(schema=SCHEMA, table=TABLE, filters=[Filter("name", "=", payload)])


@pytest.mark.parametrize("payload", ["1; DROP TABLE sales.canary", "1e999", "NaN", "-inf", "0x10", "1_000"])
def test_numeric_strings_are_validated(payload: str) -> None:
    with pytest.raises(ValidationFailed):
        builder("postgres").count(schema=SCHEMA, table=TABLE, filters=[Filter("id", "=", payload)])


# ---- free SQL ---------------------------------------------------------------------------------

FREE_ATTACKS = [
    "SELECT 1; DROP TABLE sales.canary",
    "SELECT 1; DELETE FROM sales.canary",
    "SELECT * FROM sales.people; SELECT pg_sleep(3)",
    "SELECT pg_sleep(3)",
    "SELECT * FROM sales.people WHERE pg_sleep(3) IS NOT NULL",
    "SELECT * FROM sales.people WHERE id = (SELECT 1 FROM pg_sleep(3))",
    "SELECT pg_catalog.pg_sleep(3)",
    f"COPY sales.canary TO PROGRAM 'touch {PWNED}'",
    f"COPY (SELECT 1) TO PROGRAM 'touch {PWNED}'",
    f"SELECT * FROM read_csv('{MARKER}')",
    f"SELECT * FROM read_csv_auto('{MARKER}')",
    f"SELECT * FROM '{MARKER}'",
    f"SELECT * FROM sales.people UNION ALL SELECT * FROM read_csv('{MARKER}')",
    f"WITH x AS (SELECT * FROM read_text('{MARKER}')) SELECT * FROM x",
    f"SELECT pg_read_file('{MARKER}')",
    "SELECT * FROM glob('/tmp/*')",
    "ATTACH '/tmp/evil.duckdb' AS evil",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET search_path TO pg_catalog",
    "PRAGMA database_list",
    "WITH d AS (DELETE FROM sales.canary RETURNING *) SELECT * FROM d",
    "SELECT * INTO sales.stolen FROM sales.people",
    "SELECT * FROM sales.canary FOR UPDATE",
    "SELECT current_setting('data_directory')",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM duckdb_tables()",
    "SELECT id FROM sales.people\uff1b DROP TABLE sales.canary",
    "SELECT id FROM sales.people WHERE name = '\uff07; DROP TABLE sales.canary; --'",
    "SELECT id FROM sаles.people",  # Cyrillic "a"
    "SELECT id FROM sales.people /* */; DROP TABLE sales.canary",
    "SELECT id FROM sales.people -- \n; DROP TABLE sales.canary",
    "SELECT id FROM sales.people WHERE name = 'x\\'; DROP TABLE sales.canary; --'",
    "SELECT 'a\x00'",
    "SELECT id FROM sales.people WHERE name = $$x$$; DROP TABLE sales.canary",
    "SELECT id FROM sales.people WHERE id = 1 OR 1=1",
    "SELECT id FROM sales.people WHERE name = '' OR ''=''",
]


def test_free_sql_attacks(engine: Engine) -> None:
    accepted = []
    for sql in FREE_ATTACKS:
        if _free_attack(engine, sql):
            accepted.append(sql)
    # only the three that are plain SELECTs of this schema (an OR 1=1 reads your own table) pass
    assert len(accepted) == 3, accepted


def _free_attack(engine: Engine, sql: str) -> bool:
    try:
        safe = free_sql_check(sql, dialect=engine.dialect, allowed_schemas={SCHEMA}, max_rows=100)
    except ValidationFailed as error:
        assert error.code == "unsafe_sql" and error.fields["sql"], sql
        return False
    # accepted: it must be one harmless SELECT of the allowed schema
    assert safe.startswith('SELECT "id" FROM "sales"."people" WHERE'), safe
    run_guarded(engine, safe)
    assert engine.canary_count() == CANARY_ROWS
    return True


def test_canary_and_marker_survive_everything(duck: Engine, pg: Engine) -> None:
    assert duck.canary_count() == CANARY_ROWS
    assert pg.canary_count() == CANARY_ROWS
    assert not PWNED.exists()
    assert pg.run("SELECT count(*) FROM pg_tables WHERE tablename = 'stolen'")[1] == [(0,)]


# ---- hypothesis: any printable name works as a column ----------------------------------------

_name = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn"))
    | st.sampled_from(list("\"'`;-/*\\ .%_$") + list(string.ascii_letters)),
    min_size=1,
    max_size=16,
)
_HYPO = duckdb.connect(":memory:")
_HYPO.execute("CREATE SCHEMA h")
_counter = iter(range(1_000_000))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(_name, min_size=1, max_size=4, unique_by=lambda s: s.casefold()),
    values=st.lists(st.one_of(st.none(), st.integers(-1000, 1000)), min_size=0, max_size=6),
)
def test_hypothesis_column_names(names: list[str], values: list[int | None]) -> None:
    names = [n for n in names if n.strip()] or ["fallback"]
    if len({n.lower() for n in names}) != len(names):  # DuckDB names are case-insensitive
        return
    table = f"t{next(_counter)}"
    kinds = [ColumnKind.NUMBER if i % 2 == 0 else ColumnKind.TEXT for i in range(len(names))]
    rows = [
        tuple(
            v if k == ColumnKind.NUMBER else (None if v is None else f"{n}:{v}")
            for n, k in zip(names, kinds, strict=True)
        )
        for v in values
    ]
    cols_ddl = ", ".join(
        f"{q(n)} {'INTEGER' if k == ColumnKind.NUMBER else 'VARCHAR'}" for n, k in zip(names, kinds, strict=True)
    )
    _HYPO.execute(f"CREATE TABLE h.{table} ({cols_ddl})")
    try:
        if rows:
            _HYPO.executemany(f"INSERT INTO h.{table} VALUES ({', '.join('?' * len(names))})", rows)
        columns = tuple(
            Column(n, "INTEGER" if k == ColumnKind.NUMBER else "VARCHAR", k) for n, k in zip(names, kinds, strict=True)
        )
        b = SqlBuilder("duckdb", Catalog(tables=(Table(schema="h", name=table, columns=columns),)))

        cur = _HYPO.execute(b.preview(schema="h", table=table, limit=100, offset=0))
        assert [d[0] for d in cur.description] == names
        got = cur.fetchall()
        key = [tuple((v is None, v) for v in r) for r in rows]
        assert got == [r for _, r in sorted(zip(key, rows, strict=True), key=lambda kr: kr[0])]

        want = sum(v is not None and v > 0 for v in values)
        sql = b.count(schema="h", table=table, filters=[Filter(names[0], ">", 0)])
        assert _HYPO.execute(sql).fetchall() == [(want,)]

        cur = _HYPO.execute(b.column_profile(schema="h", table=table, columns=columns))
        profile = parse_column_profile(
            columns=columns, result_columns=[d[0] for d in cur.description], row=cur.fetchone()
        )
        for i, name in enumerate(names):
            present = [r[i] for r in rows if r[i] is not None]
            assert profile[name]["count"] == len(rows)
            assert profile[name]["nulls"] == len(rows) - len(present)
            assert profile[name]["distinct"] == len(set(present))
    finally:
        _HYPO.execute(f"DROP TABLE h.{table}")
