"""Shared seed data and engines for the SQL builder tests (test_sql_builder/free/injection).

One realistic table (NULLs, Hindi/Devanagari and emoji, wide text, time zones, numerics, booleans,
JSON) with hostile column names, a table in a hostile schema, and a canary table that any injected
DROP/DELETE would destroy. The same rows go into an in-memory DuckDB and into a PostgreSQL database
created for this test session (`dalgo_sqltest_<pid>`, dropped at the end)."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import duckdb
import psycopg
from psycopg.types.json import Json

from dalgo.warehouses.adapters.base import Catalog, Column, ColumnKind, Table

SCHEMA = "sales"
TABLE = "people"
ODD_SCHEMA = 'we"ird sch.ema'
ODD_TABLE = 'tab le "q"; --'
DROP_COL = "x'); DROP TABLE sales.canary; --"
CANARY_ROWS = 3
IST = timezone(timedelta(hours=5, minutes=30))

# name -> (duckdb type, postgres type, bigquery type, kind)
COLUMNS: list[tuple[str, str, str, str, ColumnKind]] = [
    ("id", "INTEGER", "integer", "INT64", ColumnKind.NUMBER),
    ("name", "VARCHAR", "text", "STRING", ColumnKind.TEXT),
    ("amount", "DECIMAL(12,2)", "numeric(12,2)", "NUMERIC", ColumnKind.NUMBER),
    ("score", "DOUBLE", "double precision", "FLOAT64", ColumnKind.NUMBER),
    ("active", "BOOLEAN", "boolean", "BOOL", ColumnKind.BOOLEAN),
    ("joined", "DATE", "date", "DATE", ColumnKind.DATE),
    ("seen_at", "TIMESTAMP WITH TIME ZONE", "timestamp with time zone", "TIMESTAMP", ColumnKind.DATETIME),
    ("local_at", "TIMESTAMP", "timestamp without time zone", "DATETIME", ColumnKind.DATETIME),
    ("meta", "JSON", "json", "JSON", ColumnKind.JSON),
    ("select", "VARCHAR", "text", "STRING", ColumnKind.TEXT),
    ('a"b', "INTEGER", "integer", "INT64", ColumnKind.NUMBER),
    ("with space", "VARCHAR", "text", "STRING", ColumnKind.TEXT),
    ("dot.ted", "INTEGER", "integer", "INT64", ColumnKind.NUMBER),
    ("हिंदी 👍", "VARCHAR", "text", "STRING", ColumnKind.TEXT),
    (DROP_COL, "INTEGER", "integer", "INT64", ColumnKind.NUMBER),
    ("count", "INTEGER", "integer", "INT64", ColumnKind.NUMBER),
    ("value", "VARCHAR", "text", "STRING", ColumnKind.TEXT),
]
NAMES = [c[0] for c in COLUMNS]
ORDERABLE = [c[0] for c in COLUMNS if c[4] not in (ColumnKind.JSON, ColumnKind.OTHER)]

INJECTED_NAMES = [
    "'; DROP TABLE sales.canary; --",
    "x' OR '1'='1",
    "Robert'); DELETE FROM sales.canary; --",
]
NAME_POOL = [
    None,
    "Asha",
    "आशा 🙏",
    "ज्योति",
    "O'Brien",
    'say "hi"',
    "50% off_now",
    "5000 off",
    "back\\slash",
    "🙂",
    "",
    "x" * 5000,
    "Zoë",
    "line\nbreak",
    *INJECTED_NAMES,
]


def q(name: str) -> str:
    """Test-only DDL quoting (the builder never formats identifiers itself)."""
    return '"' + name.replace('"', '""') + '"'


def make_rows(n: int = 64) -> list[tuple[Any, ...]]:
    rng = random.Random(7)
    rows = []
    for i in range(1, n + 1):
        name = NAME_POOL[i % len(NAME_POOL)]
        amount = None if i % 9 == 0 else Decimal(rng.randint(-50_000, 500_000)) / 100
        score = None if i % 11 == 0 else round(rng.uniform(-10, 100), 3)
        active = None if i % 7 == 0 else rng.random() < 0.6
        joined = None if i % 10 == 0 else date(2023, 1, 1) + timedelta(days=rng.randint(0, 700))
        seen = None if i % 8 == 0 else datetime(2024, 1, 1, tzinfo=IST) + timedelta(minutes=rng.randint(0, 500_000))
        local = None if i % 6 == 0 else datetime(2024, 1, 1) + timedelta(minutes=rng.randint(0, 400_000))
        meta = None if i % 5 == 0 else json.dumps({"q": i % 4, "tags": ["a", "ब"]}, ensure_ascii=False)
        rows.append(
            (
                i,
                name,
                amount,
                score,
                active,
                joined,
                seen,
                local,
                meta,
                ["from", "where", None, "select"][i % 4],
                i % 6,
                f"space {i % 3}",
                i * 10,
                ["नमस्ते", "👍", None][i % 3],
                i % 2,
                i % 5,
                ["v1", "v2"][i % 2],
            )
        )
    return rows


ROWS = make_rows()
ODD_COLUMNS: list[tuple[str, str, str, str, ColumnKind]] = [
    ("k", "INTEGER", "integer", "INT64", ColumnKind.NUMBER),
    ("v'\"`", "VARCHAR", "text", "STRING", ColumnKind.TEXT),
]
ODD_ROWS = [(1, "one"), (2, None), (3, "तीन")]


def catalog_for(dialect: str) -> Catalog:
    pos = {"duckdb": 1, "postgres": 2, "bigquery": 3}[dialect]

    def cols(spec: list[tuple[str, str, str, str, ColumnKind]]) -> tuple[Column, ...]:
        return tuple(Column(name=c[0], type=c[pos], kind=c[4]) for c in spec)

    return Catalog(
        tables=(
            Table(schema=SCHEMA, name=TABLE, columns=cols(COLUMNS)),
            Table(schema=ODD_SCHEMA, name=ODD_TABLE, columns=cols(ODD_COLUMNS)),
            Table(schema=SCHEMA, name="canary", columns=(Column("n", "INTEGER", ColumnKind.NUMBER),)),
        )
    )


def table_columns(dialect: str) -> tuple[Column, ...]:
    return catalog_for(dialect).table(SCHEMA, TABLE).columns


@dataclass
class Engine:
    dialect: str
    conn: Any

    def run(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        if self.dialect == "duckdb":
            cur = self.conn.cursor()  # execute() runs every statement of a string: the unsafe mode
            cur.execute(sql)
            rows = cur.fetchall()
            names = [d[0] for d in cur.description]
            cur.close()
            return names, rows
        with self.conn.cursor() as cur:  # ClientCursor: simple protocol, stacked statements would run
            cur.execute(sql)
            return [d.name for d in cur.description], cur.fetchall()

    def timed(self, sql: str) -> tuple[float, list[tuple[Any, ...]]]:
        start = time.perf_counter()
        _, rows = self.run(sql)
        return time.perf_counter() - start, rows

    def canary_count(self) -> int:
        return int(self.run(f"SELECT count(*) FROM {SCHEMA}.canary")[1][0][0])


def _ddl(spec: list[tuple[str, str, str, str, ColumnKind]], pos: int) -> str:
    return ", ".join(f"{q(c[0])} {c[pos]}" for c in spec)


def _make_duck() -> tuple[Engine, Callable[[], None]]:
    conn = duckdb.connect(":memory:")
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(f"CREATE SCHEMA {SCHEMA}")
    conn.execute(f"CREATE SCHEMA {q(ODD_SCHEMA)}")
    conn.execute(f"CREATE TABLE {SCHEMA}.{TABLE} ({_ddl(COLUMNS, 1)})")
    conn.executemany(f"INSERT INTO {SCHEMA}.{TABLE} VALUES ({', '.join('?' * len(COLUMNS))})", ROWS)
    conn.execute(f"CREATE TABLE {q(ODD_SCHEMA)}.{q(ODD_TABLE)} ({_ddl(ODD_COLUMNS, 1)})")
    conn.executemany(f"INSERT INTO {q(ODD_SCHEMA)}.{q(ODD_TABLE)} VALUES (?, ?)", ODD_ROWS)
    conn.execute(f"CREATE TABLE {SCHEMA}.canary (n INTEGER)")
    conn.execute(f"INSERT INTO {SCHEMA}.canary VALUES (1), (2), (3)")
    return Engine("duckdb", conn), conn.close


def _make_pg() -> tuple[Engine, Callable[[], None]]:
    name = f"dalgo_sqltest_{os.getpid()}"
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    # C collation: text sorts by code point, as in DuckDB and in the Python expectations
    admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    conn = psycopg.connect(
        f"postgresql://postgres@127.0.0.1:5432/{name}", autocommit=True, cursor_factory=psycopg.ClientCursor
    )

    def drop() -> None:
        conn.close()
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()

    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET statement_timeout = '10s'")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(f"CREATE SCHEMA {q(ODD_SCHEMA)}")
        conn.execute(f"CREATE TABLE {SCHEMA}.{TABLE} ({_ddl(COLUMNS, 2)})")
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {SCHEMA}.{TABLE} VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                [(*r[:8], Json(json.loads(r[8])) if r[8] is not None else None, *r[9:]) for r in ROWS],
            )
        conn.execute(f"CREATE TABLE {q(ODD_SCHEMA)}.{q(ODD_TABLE)} ({_ddl(ODD_COLUMNS, 2)})")
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {q(ODD_SCHEMA)}.{q(ODD_TABLE)} VALUES (%s, %s)", ODD_ROWS)
        conn.execute(f"CREATE TABLE {SCHEMA}.canary (n integer)")
        conn.execute(f"INSERT INTO {SCHEMA}.canary VALUES (1), (2), (3)")
    except BaseException:
        drop()
        raise
    return Engine("postgres", conn), drop


_SHARED: dict[str, tuple[Engine, Callable[[], None], list[int]]] = {}


def shared_engine(kind: str) -> Iterator[Engine]:
    """Body of each test module's `duck`/`pg` fixture: one engine per kind for the whole session,
    torn down (the Postgres database dropped) when the last module using it is done."""
    if kind not in _SHARED:
        engine, close = _make_duck() if kind == "duckdb" else _make_pg()
        _SHARED[kind] = (engine, close, [0])
    engine, close, users = _SHARED[kind]
    users[0] += 1
    try:
        yield engine
    finally:
        users[0] -= 1
        if users[0] == 0:
            del _SHARED[kind]
            close()
