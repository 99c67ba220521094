"""The write side of each warehouse, as the loader needs it: transactions, DDL, introspection of the
tables it writes, and the bulk path that stages one batch (DuckDB scans the Arrow table in place;
PostgreSQL COPYs CSV into a temporary table). The statements themselves come from `loader.sql`."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any, Protocol

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlglot import exp

from dalgo.ingestion.loader import sql
from dalgo.ingestion.loader.types import EXTRACTED_AT, ColumnType, type_from_warehouse

STAGE = "_dalgo_stage"
COPY_CHUNK = 1 << 20


class WarehouseWriter(Protocol):
    dialect: str  # the sqlglot dialect

    def execute(self, statement: str) -> None:
        """Run one statement inside the current transaction (one is opened when none is)."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def table_columns(self, schema: str, table: str) -> dict[str, ColumnType] | None:
        """The table's columns in order, None when it does not exist."""
        ...

    def tables(self, schema: str) -> list[str]: ...

    def dependents(self, schema: str, table: str) -> list[str]:
        """Views that depend on the table (and would block dropping it)."""
        ...

    def stage(self, batch: pa.Table, types: dict[str, ColumnType]) -> exp.Table:
        """Put a batch where the apply statement can read it, inside the current transaction."""
        ...

    def unstage(self) -> None: ...

    def close(self) -> None: ...


class DuckDBWriter:
    """Read-write access to the DuckDB file, held only while a batch is written: DuckDB lets one
    process write a file and nobody else open it meanwhile, so Explore and dbt get their turn between
    batches. Opening waits for readers to let go (up to `lock_wait_seconds`)."""

    dialect = "duckdb"

    def __init__(self, path: str | Path, *, lock_wait_seconds: float = 60.0):
        self.path = Path(path)
        self.lock_wait_seconds = lock_wait_seconds
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._in_transaction = False

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        if self._conn is None:
            deadline = time.monotonic() + self.lock_wait_seconds
            while True:
                try:
                    self._conn = duckdb.connect(str(self.path), read_only=False)
                    break
                except duckdb.IOException as exc:
                    if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            self._conn.execute("SET TimeZone = 'UTC'")
        return self._conn

    def _release(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _begin(self) -> None:
        if not self._in_transaction:
            self.conn.begin()
            self._in_transaction = True

    def execute(self, statement: str) -> None:
        self._begin()
        self.conn.execute(statement)

    def commit(self) -> None:
        if self._in_transaction:
            self.conn.commit()
            self._in_transaction = False
        self._release()

    def rollback(self) -> None:
        if self._in_transaction:
            self._in_transaction = False
            self.conn.rollback()
        self._release()

    def table_columns(self, schema: str, table: str) -> dict[str, ColumnType] | None:
        rows = self.conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
        return {str(name): type_from_warehouse(str(t)) for name, t in rows} or None

    def tables(self, schema: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = ?",
            [schema],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def dependents(self, schema: str, table: str) -> list[str]:
        return []  # DuckDB binds views when they are queried: dropping and renaming a table keeps them working

    def stage(self, batch: pa.Table, types: dict[str, ColumnType]) -> exp.Table:
        self._begin()
        self.conn.register(STAGE, batch)
        return sql.table(None, STAGE)

    def unstage(self) -> None:
        if self._conn is not None:
            self._conn.unregister(STAGE)

    def close(self) -> None:
        self.rollback()

    def __enter__(self) -> DuckDBWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PostgresWriter:
    """One psycopg connection for the whole sync; a transaction per batch (psycopg opens it)."""

    dialect = "postgres"

    def __init__(self, conninfo: str = "", **params: Any):
        self.conn = psycopg.connect(conninfo, autocommit=False, application_name="dalgo-loader", **params)
        self.conn.execute("SET TIME ZONE 'UTC'")
        self.conn.commit()

    def execute(self, statement: str) -> None:
        self.conn.execute(statement.encode())  # bytes: '%' is never a placeholder here

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def table_columns(self, schema: str, table: str) -> dict[str, ColumnType] | None:
        rows = self.conn.execute(
            "SELECT column_name, CASE WHEN data_type = 'USER-DEFINED' THEN udt_name ELSE data_type END "
            "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
        return {str(name): type_from_warehouse(str(t)) for name, t in rows} or None

    def tables(self, schema: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
        ).fetchall()
        return [str(r[0]) for r in rows]

    def dependents(self, schema: str, table: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT v.oid::regclass::text FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
            "JOIN pg_class v ON v.oid = r.ev_class WHERE d.refobjid = to_regclass(%s) AND v.oid <> d.refobjid",
            [sql.table(schema, table).sql("postgres")],
        ).fetchall()
        return sorted(str(r[0]) for r in rows)

    def stage(self, batch: pa.Table, types: dict[str, ColumnType]) -> exp.Table:
        columns = {n: types[n] if n in types else _metadata_stage_type(n) for n in batch.column_names}
        self.execute(sql.create_table(None, STAGE, columns, dialect=self.dialect, temporary=True))
        buffer = io.BytesIO()
        pacsv.write_csv(
            _for_copy(batch, columns), buffer, pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        )
        view = buffer.getbuffer()
        copy_sql = f"COPY {sql.ident(STAGE).sql(self.dialect)} FROM STDIN (FORMAT csv)"
        with self.conn.cursor() as cursor, cursor.copy(copy_sql.encode()) as copy:
            for start in range(0, len(view), COPY_CHUNK):
                copy.write(view[start : start + COPY_CHUNK])
        view.release()
        return sql.table(None, STAGE)

    def unstage(self) -> None:
        self.execute(sql.drop_table(None, STAGE, dialect=self.dialect))

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()

    def __enter__(self) -> PostgresWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BigQueryWriter:
    """Not built yet: BigQuery load jobs (Arrow/Parquet into a staging table, then the same MERGE /
    INSERT generated for the bigquery dialect)."""

    dialect = "bigquery"

    def __init__(self, *args: Any, **kwargs: Any):
        raise NotImplementedError(
            "Loading into BigQuery is not implemented yet: the loader writes to DuckDB and PostgreSQL. "
            "A BigQueryWriter needs load jobs into a staging table plus the bigquery-dialect apply statements."
        )


def _metadata_stage_type(name: str) -> ColumnType:
    if name == EXTRACTED_AT:
        return ColumnType.TIMESTAMPTZ
    if name == sql.SEQ:
        return ColumnType.BIGINT
    return ColumnType.TEXT  # _airbyte_meta as JSON text, cast by the apply statement


def _for_copy(batch: pa.Table, types: dict[str, ColumnType]) -> pa.Table:
    """Ready for CSV: UTC timestamps as plain UTC wall-clock values (the session's time zone is UTC;
    Arrow formats zoned timestamps ~50x slower), and no U+0000, which PostgreSQL text and jsonb
    cannot hold (rare: some APIs send it)."""
    columns = []
    for name, column in zip(batch.column_names, batch.columns, strict=True):
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = column.cast(pa.timestamp(column.type.unit))
        elif pa.types.is_string(column.type):
            pattern = "\\u0000" if types.get(name) == ColumnType.JSON else "\x00"
            if pc.any(pc.match_substring(column, pattern)).as_py():
                column = pc.replace_substring(column, pattern, "")
        columns.append(column)
    return pa.Table.from_arrays(columns, names=batch.column_names)
