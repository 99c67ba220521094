"""The adapters' own safety nets, on real engines: statement timeouts, read-only reads, no file or
network access from DuckDB SQL, and exports that stream in constant memory."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dalgo.warehouses.adapters.base import QueryTimeout, WarehouseError
from dalgo.warehouses.adapters.duckdb import DuckDBAdapter
from dalgo.warehouses.adapters.postgres import PostgresAdapter


def _rss_mb() -> float:
    """Resident memory of this process now (not the lifetime peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_duckdb_query_is_interrupted_at_its_timeout(tmp_path: Path) -> None:
    adapter = DuckDBAdapter(path=tmp_path / "w.duckdb")
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        adapter.query("SELECT count(*) FROM range(100000000) a, range(100000) b", timeout_seconds=0.5, max_rows=1)
    assert time.monotonic() - started < 10


def test_duckdb_sql_cannot_read_files_or_change_settings(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nsuper-secret\n")
    adapter = DuckDBAdapter(path=tmp_path / "w.duckdb")
    for sql in (f"SELECT * FROM read_csv('{secret}')", f"SELECT * FROM '{secret}'",
                "SET enable_external_access = true", "INSTALL httpfs"):  # fmt: skip
        with pytest.raises(WarehouseError) as refused:
            adapter.query(sql, timeout_seconds=5, max_rows=10)
        assert "super-secret" not in refused.value.detail


def test_duckdb_reads_are_read_only(tmp_path: Path) -> None:
    adapter = DuckDBAdapter(path=tmp_path / "w.duckdb")
    adapter.execute_script("CREATE TABLE t AS SELECT 1 AS x")
    with pytest.raises(WarehouseError):
        adapter.query("DROP TABLE t", timeout_seconds=5, max_rows=1)
    assert adapter.query("SELECT count(*) FROM t", timeout_seconds=5, max_rows=1).rows == [(1,)]


def test_postgres_timeout_and_read_only(pg_warehouse: dict[str, Any]) -> None:
    adapter = PostgresAdapter(**pg_warehouse)
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        adapter.query("SELECT pg_sleep(5)", timeout_seconds=0.5, max_rows=1)
    assert time.monotonic() - started < 3
    with pytest.raises(WarehouseError):
        adapter.query("DELETE FROM survey.households", timeout_seconds=5, max_rows=1)
    count = adapter.query("SELECT count(*) FROM survey.households", timeout_seconds=5, max_rows=1).rows
    assert count == [(500,)]


def test_max_rows_caps_and_flags_truncation(tmp_path: Path) -> None:
    adapter = DuckDBAdapter(path=tmp_path / "w.duckdb")
    result = adapter.query("SELECT * FROM range(1000)", timeout_seconds=5, max_rows=10)
    assert len(result.rows) == 10 and result.truncated


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_large_exports_stream_in_constant_memory(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """About 150 MB of rows go through in batches while the process grows by far less."""
    rows = 1_000_000
    select = "SELECT i, repeat('x', 120) AS wide, i * 0.5 AS half FROM {source}"
    if engine == "duckdb":
        adapter: Any = DuckDBAdapter(path=tmp_path / "big.duckdb")
        adapter.execute_script(f"CREATE TABLE big AS {select.format(source=f'range({rows}) t(i)')}")
        sql = "SELECT * FROM big"
    else:
        adapter = PostgresAdapter(**request.getfixturevalue("pg_warehouse"))
        sql = select.format(source=f"generate_series(1, {rows}) AS i")
    before = peak = _rss_mb()
    streamed = adapter.stream(sql, timeout_seconds=120, batch_size=5000)
    seen = total_bytes = largest = 0
    for batch in streamed.batches:
        seen += len(batch)
        largest = max(largest, len(batch))
        total_bytes += sum(len(r[1]) for r in batch)
        peak = max(peak, _rss_mb())
    grown_mb = peak - before
    assert seen == rows
    assert largest <= 5000
    assert total_bytes >= 120 * rows
    assert grown_mb < 60, f"the process grew by {grown_mb:.0f} MB while streaming {total_bytes / 1e6:.0f} MB"


def test_duckdb_connections_open_at_once_in_one_process(tmp_path: Path) -> None:
    """DuckDB shares one instance (and its settings) between a process's connections to a file:
    concurrent requests must not trip over the locked configuration."""
    adapter = DuckDBAdapter(path=tmp_path / "w.duckdb")
    adapter.execute_script("CREATE TABLE t AS SELECT * FROM range(10) r(x)")
    errors: list[BaseException] = []

    def read() -> None:  # each request builds its own adapter
        try:
            own = DuckDBAdapter(path=adapter.path)
            for _ in range(20):
                assert own.query("SELECT count(*) FROM t", timeout_seconds=5, max_rows=1).rows == [(10,)]
        except BaseException as exc:  # noqa: BLE001  (asserted below)
            errors.append(exc)

    with adapter.session():  # one connection held open while others come and go
        workers = [threading.Thread(target=read) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert errors == []
    with pytest.raises(WarehouseError):  # still locked down for every connection
        adapter.query(f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'", timeout_seconds=5, max_rows=1)


def test_duckdb_export_streams_through_a_pipe_and_cleans_up(tmp_path: Path) -> None:
    adapter = DuckDBAdapter(path=tmp_path / "w.duckdb")
    adapter.execute_script("CREATE TABLE t AS SELECT i, 'a,\"b\"' AS s, NULL::INTEGER AS n FROM range(200000) r(i)")
    text = b"".join(adapter.export_csv("SELECT * FROM t ORDER BY i", timeout_seconds=30)).decode()
    lines = text.splitlines()
    assert lines[:2] == ["i,s,n", '0,"a,""b""",'] and len(lines) == 200_001
    empty = b"".join(adapter.export_csv("SELECT * FROM t WHERE i < 0", timeout_seconds=30)).decode()
    assert empty.splitlines() == ["i,s,n"]

    # A reader that leaves early (the client went away) stops the query; nothing hangs or stays behind.
    started = time.monotonic()
    chunks = adapter.export_csv("SELECT a.i FROM range(100000000) a(i)", timeout_seconds=60)
    assert next(chunks)
    chunks.close()
    assert time.monotonic() - started < 20
    with pytest.raises(WarehouseError):
        list(adapter.export_csv("SELECT no_such_column FROM t", timeout_seconds=30))
    with pytest.raises(QueryTimeout):
        list(adapter.export_csv("SELECT count(*) FROM range(100000000) a, range(100000) b", timeout_seconds=0.5))
    assert list(adapter.export_dir.iterdir()) == []


def test_postgres_psycopg_params_reach_the_same_server_with_the_same_tls_settings(
    pg_warehouse: dict[str, Any],
) -> None:
    """The loader connects with psycopg from the adapter's settings (CA certificate included)."""
    import psycopg

    adapter = PostgresAdapter(**pg_warehouse)
    with psycopg.connect(**adapter.psycopg_params()) as conn:
        assert conn.execute("SELECT count(*) FROM survey.households").fetchone() == (500,)
    with_ca = PostgresAdapter(**{**pg_warehouse, "sslmode": "verify-full", "ssl_root_cert": "-----BEGIN CERT-----"})
    params = with_ca.psycopg_params()
    assert params["sslmode"] == "verify-full"
    assert Path(params["sslrootcert"]).read_text() == "-----BEGIN CERT-----"
    assert with_ca.psycopg_params()["sslrootcert"] == params["sslrootcert"]  # one file per adapter
