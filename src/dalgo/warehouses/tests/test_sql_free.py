"""free_sql_check: accepted queries are regenerated, capped and still run (DuckDB and PostgreSQL,
compared with Python); everything else is refused with code "unsafe_sql" and a reason on "sql".
BigQuery is unreachable here: its output is compiled and parsed back only."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
import sqlglot

from dalgo.core.errors import ValidationFailed
from dalgo.warehouses.sql import free_sql_check
from dalgo.warehouses.tests.test_sql_support import (
    CANARY_ROWS,
    ODD_SCHEMA,
    ROWS,
    SCHEMA,
    Engine,
)

ALLOWED = {SCHEMA, ODD_SCHEMA}


def check(sql: str, dialect: str, max_rows: int = 1000) -> str:
    return free_sql_check(sql, dialect=dialect, allowed_schemas=ALLOWED, max_rows=max_rows)


ACCEPTED: list[tuple[str, Any]] = [
    ("SELECT id, name FROM sales.people WHERE id < 4 ORDER BY id", [(r[0], r[1]) for r in ROWS[:3]]),
    ("select count(*) from SALES.PEOPLE;", [(len(ROWS),)]),
    ("WITH t AS (SELECT id FROM sales.people WHERE id <= 2) SELECT id FROM t ORDER BY 1", [(1,), (2,)]),
    (
        "SELECT id FROM sales.people WHERE id = 1 UNION ALL SELECT id FROM sales.people WHERE id = 2 ORDER BY 1",
        [(1,), (2,)],
    ),
    ("SELECT id FROM sales.people WHERE id = 1 OR (id = 2 AND name IS NOT NULL) ORDER BY id", [(1,), (2,)]),
    ("SELECT max(id) AS m FROM (SELECT id FROM sales.people) AS s", [(len(ROWS),)]),
    ('SELECT "k" FROM "we""ird sch.ema"."tab le ""q""; --" ORDER BY 1', [(1,), (2,), (3,)]),
    ("SELECT p.id FROM sales.people p JOIN sales.canary c ON c.n = p.id ORDER BY 1", [(1,), (2,), (3,)]),
    ("SELECT lower('AB'), coalesce(NULL, 2), abs(-3), length('हिंदी') -- trailing comment\n", [("ab", 2, 3, 5)]),
    ("SELECT id FROM sales.people /* DROP TABLE sales.canary */ WHERE id = 1", [(1,)]),
    (
        "SELECT id FROM sales.people WHERE name = '; DROP TABLE sales.canary; --' ORDER BY id",
        [(r[0],) for r in ROWS if r[1] == "; DROP TABLE sales.canary; --"],
    ),
    ("SELECT id, row_number() OVER (ORDER BY id DESC) FROM sales.people ORDER BY id LIMIT 2", [(1, 64), (2, 63)]),
    (
        "SELECT CASE WHEN id > 1 THEN 'big' ELSE 'small' END FROM sales.people WHERE id IN (1, 2) ORDER BY 1",
        [("big",), ("small",)],
    ),
]


@pytest.mark.parametrize(("sql", "expected"), ACCEPTED)
def test_accepted_queries_run(engine: Engine, sql: str, expected: list[tuple[Any, ...]]) -> None:
    safe = check(sql, engine.dialect)
    assert engine.run(safe)[1] == expected
    assert "/*" not in safe and "trailing comment" not in safe  # comments are dropped, not carried
    assert engine.canary_count() == CANARY_ROWS


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery"])
def test_limit_is_added_and_clamped(dialect: str) -> None:
    def limit_of(sql: str) -> str | None:
        tree = sqlglot.parse_one(sql, read=dialect)
        limit = tree.args.get("limit")
        return limit.expression.sql() if limit is not None else None

    assert limit_of(check("SELECT id FROM sales.people", dialect, max_rows=50)) == "50"
    assert limit_of(check("SELECT id FROM sales.people LIMIT 10", dialect, max_rows=50)) == "10"
    assert limit_of(check("SELECT id FROM sales.people LIMIT 100000", dialect, max_rows=50)) == "50"
    assert limit_of(check("SELECT id FROM sales.people UNION ALL SELECT 1 LIMIT 999", dialect, max_rows=50)) == "50"
    # an inner LIMIT does not count: the outermost query is capped
    assert limit_of(check("SELECT * FROM (SELECT id FROM sales.people LIMIT 9999) s", dialect, max_rows=7)) == "7"


def test_limit_really_caps_rows(engine: Engine) -> None:
    assert len(engine.run(check("SELECT id FROM sales.people", engine.dialect, max_rows=5))[1]) == 5
    if engine.dialect == "postgres":
        safe = check("SELECT id FROM sales.people FETCH FIRST 40 ROWS ONLY", "postgres", max_rows=5)
        assert len(engine.run(safe)[1]) == 5
        assert len(engine.run(check("SELECT id FROM sales.people LIMIT ALL", "postgres", max_rows=6))[1]) == 6


REJECTED: list[tuple[str, str]] = [
    ("", "SELECT"),
    ("SELEC id FROM sales.people", ""),
    ("SELECT 1; SELECT 2", "exactly one"),
    ("SELECT id FROM sales.people; DROP TABLE sales.canary", "exactly one"),
    ("DROP TABLE sales.canary", ""),
    ("DELETE FROM sales.canary", ""),
    ("UPDATE sales.canary SET n = 0", ""),
    ("INSERT INTO sales.canary VALUES (4)", ""),
    ("CREATE TABLE sales.x AS SELECT 1", ""),
    ("ALTER TABLE sales.canary ADD COLUMN y int", ""),
    ("TRUNCATE sales.canary", ""),
    ("COPY sales.canary TO '/tmp/x.csv'", ""),
    ("COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'", ""),
    ("ATTACH '/tmp/x.duckdb' AS x", ""),
    ("INSTALL httpfs", ""),
    ("LOAD httpfs", ""),
    ("PRAGMA database_list", ""),
    ("SET search_path = pg_catalog", ""),
    ("CALL pragma_version()", ""),
    ("EXPORT DATABASE '/tmp/out'", ""),
    ("SELECT * INTO sales.copy FROM sales.people", "INTO"),
    ("SELECT * FROM sales.people FOR UPDATE", "LOCK"),
    ("SELECT * FROM sales.people FOR SHARE", "LOCK"),
    ("WITH d AS (DELETE FROM sales.canary RETURNING *) SELECT * FROM d", "DELETE"),
    ("SELECT * FROM people", "qualified"),
    ("SELECT * FROM other.people", "not one of yours"),
    ("SELECT * FROM information_schema.tables", "not one of yours"),
    ("SELECT * FROM pg_catalog.pg_class", "not one of yours"),
    ("SELECT * FROM pg_class", "qualified"),
    ("SELECT * FROM duckdb_tables()", "not allowed"),
    ("SELECT * FROM duckdb_settings()", "not allowed"),
    ("SELECT * FROM main.duckdb_tables", "not one of yours"),
    ("SELECT * FROM mydb.sales.people", "database"),
    ("SELECT * FROM read_csv('/etc/passwd')", "not allowed"),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", "not allowed"),
    ("SELECT * FROM read_parquet('/tmp/x.parquet')", "not allowed"),
    ("SELECT * FROM read_json('/tmp/x.json')", "not allowed"),
    ("SELECT * FROM read_text('/etc/passwd')", "not allowed"),
    ("SELECT * FROM glob('/etc/*')", ""),
    ("SELECT * FROM '/etc/passwd'", ""),
    ("SELECT pg_read_file('/etc/passwd')", "not allowed"),
    ("SELECT * FROM pg_ls_dir('/')", "not allowed"),
    ("SELECT dblink('host=evil', 'select 1')", "not allowed"),
    ("SELECT lo_import('/etc/passwd')", "not allowed"),
    ("SELECT pg_sleep(5)", "not allowed"),
    ("SELECT id FROM sales.people WHERE pg_sleep(5) IS NULL", "not allowed"),
    ("SELECT current_setting('data_directory')", "not allowed"),
    ("SELECT set_config('work_mem', '1GB', false)", "not allowed"),
    ("SELECT version()", "not allowed"),
    ("SELECT current_user", "not allowed"),
    ("SELECT getenv('HOME')", "not allowed"),
    ("SELECT pg_catalog.upper('x')", "not allowed"),
    ("SELECT sales.lower('x')", "function"),
    ("SELECT id FROM sales.people WHERE id = $1", "not allowed"),
    ("SELECT 'a\x00b'", "NUL"),
    ("SELECT id FROM sales.people；DROP TABLE sales.canary", ""),  # fullwidth semicolon
]


# DuckDB reads a file when no table has the name, even as schema."name" (it tries "sales./etc/passwd")
REJECTED_DUCKDB = [
    ('SELECT * FROM sales."/etc/passwd"', "file"),
    ('SELECT * FROM sales."*/../../etc/passwd"', "file"),
    ('SELECT * FROM sales."s3://bucket/x.parquet"', "file"),
]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_rejected(dialect: str) -> None:
    for sql, reason in REJECTED + (REJECTED_DUCKDB if dialect == "duckdb" else []):
        with pytest.raises(ValidationFailed) as info:
            check(sql, dialect)
        assert info.value.code == "unsafe_sql", sql
        assert set(info.value.fields) == {"sql"}
        assert reason.lower() in info.value.fields["sql"].lower(), (sql, info.value.fields)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM `proj`.sales.people",
        "SELECT * FROM EXTERNAL_QUERY('conn', 'select 1')",
        "SELECT SESSION_USER()",
        "SELECT * FROM sales.people FOR SYSTEM_TIME AS OF '2020-01-01' ; SELECT 1",
        "SELECT * FROM Sales.people",  # BigQuery dataset names are case-sensitive
        "SELECT * FROM region-us.INFORMATION_SCHEMA.JOBS",
    ],
)
def test_rejected_bigquery(sql: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        check(sql, "bigquery")
    assert info.value.code == "unsafe_sql"


def test_bigquery_output_compiles() -> None:
    safe = check("SELECT name, count(*) AS n FROM sales.people GROUP BY name ORDER BY n DESC", "bigquery", 20)
    assert safe.upper().startswith("SELECT `NAME`, COUNT(*) AS `N` FROM `SALES`.`PEOPLE`")
    assert safe.endswith("LIMIT 20")
    sqlglot.parse_one(safe, read="bigquery")


def test_session_keywords_never_read_the_session(engine: Engine) -> None:
    """`user` unquoted is a function in Postgres: regenerated it is a quoted column name, which fails
    when there is no such column. DuckDB reads even a quoted "user" as the session user when no
    column has that name, so there it must be written with its table."""
    if engine.dialect == "postgres":
        safe = check("SELECT user FROM sales.people", "postgres")
        assert '"user"' in safe
        with pytest.raises(psycopg.errors.UndefinedColumn):
            engine.run(safe)
    else:
        for name in ("user", '"current_schema"', "session_user", "current_role"):
            with pytest.raises(ValidationFailed, match=r"with its table|not allowed"):
                check(f"SELECT {name} FROM sales.people", "duckdb")
        assert engine.run(check("SELECT p.id FROM sales.people AS p WHERE p.id = 1", "duckdb"))[1] == [(1,)]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_comments_are_dropped(dialect: str) -> None:
    safe = check("SELECT id /* x */ FROM sales.people -- ; DROP TABLE sales.canary\n", dialect)
    assert "DROP" not in safe and "/*" not in safe and "--" not in safe
