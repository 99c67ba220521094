"""Real warehouses for the tests: a PostgreSQL database seeded with realistic survey data on the
local server, a second PostgreSQL cluster with password authentication (the local one trusts
127.0.0.1, so a wrong password could not fail there), and DuckDB files."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dalgo.warehouses.tests.test_sql_support import Engine, shared_engine
from tests.fixtures import free_port

PG_BIN = (
    Path("/usr/lib/postgresql")
    / (os.listdir("/usr/lib/postgresql")[0] if Path("/usr/lib/postgresql").exists() else "15")
    / "bin"
)

SEED_SQL = '''
CREATE SCHEMA survey;
CREATE TABLE survey.households (
    id integer PRIMARY KEY,
    village text,
    head_name text,
    members integer,
    income numeric(12, 2),
    has_toilet boolean,
    surveyed_at timestamptz,
    visit_date date,
    notes text,
    answers jsonb
);
INSERT INTO survey.households
SELECT i,
       (ARRAY['Rampur', 'सीतापुर', 'Kheda', 'Ujjain', NULL])[1 + i % 5],
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'हरि ' || i || ' 🌾' END,
       1 + i % 9,
       CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 137 % 50000) / 3.0 END,
       CASE WHEN i % 13 = 0 THEN NULL ELSE i % 3 = 0 END,
       timestamptz '2024-01-01 08:00:00+05:30' + (i || ' hours')::interval * 7,
       date '2024-01-01' + (i % 400),
       CASE WHEN i % 50 = 0 THEN repeat('wide text ', 600) ELSE 'note ' || i END,
       jsonb_build_object('q1', i % 4, 'tags', jsonb_build_array('a', 'b'))
FROM generate_series(1, 500) AS i;
CREATE TABLE survey.empty_table (id integer, label text);
CREATE TABLE survey."odd names" ("Village ""Name""" text, "household size" integer, "select" text);
INSERT INTO survey."odd names" VALUES ('A''s place', 3, 'x'), ('B; DROP TABLE x', 5, NULL);
CREATE VIEW survey.big_households AS SELECT id, village, members FROM survey.households WHERE members > 5;
'''


@pytest.fixture(scope="session")
def pg_warehouse() -> Iterator[dict[str, Any]]:
    """A database of its own on the local server, seeded; dropped at the end."""
    name = f"dalgo_wh_{os.getpid()}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}", autocommit=True) as conn:
        conn.execute(SEED_SQL)
    yield {"host": "127.0.0.1", "port": 5432, "database": name, "username": "postgres", "password": "",
           "sslmode": "disable"}  # fmt: skip
    from dalgo.warehouses.adapters import postgres

    for engine in postgres._engines.values():
        engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_password_server() -> Iterator[dict[str, Any]]:
    """A throwaway PostgreSQL cluster that demands a password (scram-sha-256)."""
    root = Path(tempfile.mkdtemp(prefix="dalgo-pgpw-"))
    shutil.chown(root, "postgres", "postgres")
    pwfile = root / "pw"
    pwfile.write_text("s3cret-Pa55\n")
    shutil.chown(pwfile, "postgres", "postgres")
    port = free_port()
    data = root / "data"

    def as_postgres(*args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "dalgo", "--auth=scram-sha-256",
                f"--pwfile={pwfile}", "-E", "UTF8")  # fmt: skip
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(f"postgresql://dalgo:s3cret-Pa55@127.0.0.1:{port}/postgres").close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield {"host": "127.0.0.1", "port": port, "database": "postgres", "username": "dalgo",
               "password": "s3cret-Pa55", "sslmode": "disable"}  # fmt: skip
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def duck() -> Iterator[Engine]:
    """The SQL builder tests' seeded in-memory DuckDB (see test_sql_support)."""
    yield from shared_engine("duckdb")


@pytest.fixture(scope="session")
def pg() -> Iterator[Engine]:
    """The SQL builder tests' seeded PostgreSQL database (see test_sql_support)."""
    yield from shared_engine("postgres")


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue("duck" if request.param == "duckdb" else "pg")
