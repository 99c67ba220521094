"""The write side of each warehouse, as the loader needs it: transactions, DDL, introspection of the
tables it writes, and the bulk path that stages one batch (DuckDB scans the Arrow table in place;
PostgreSQL COPYs CSV into a temporary table; BigQuery runs a load job into a staging table). The
statements themselves come from `loader.sql`."""

from __future__ import annotations

import io
import logging
import time
import uuid
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import adbc_driver_postgresql.dbapi as adbc
import duckdb
import orjson
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlglot import exp

from dalgo.ingestion.loader import sql
from dalgo.ingestion.loader.types import (
    EXTRACTED_AT,
    GENERATION_ID,
    META,
    ColumnType,
    type_from_bigquery,
    type_from_warehouse,
)
from dalgo.warehouses.adapters.base import WarehouseError
from dalgo.warehouses.adapters.bigquery import BigQueryClient, RetryPolicy

log = logging.getLogger(__name__)

STAGE = "_dalgo_stage"
COPY_CHUNK = 1 << 20


class WarehouseWriter(Protocol):
    dialect: str  # the sqlglot dialect
    location: str | None  # where new schemas are created (BigQuery's dataset location); None elsewhere

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

    def stage(self, batch: pa.Table, types: dict[str, ColumnType], *, schema: str) -> exp.Table:
        """Put a batch where the apply statement can read it, inside the current transaction.
        `schema` is the destination's: a writer that stages into a real table puts it there."""
        ...

    def unstage(self) -> None: ...

    def insert(
        self, batch: pa.Table, types: dict[str, ColumnType], *, schema: str, table: str, meta: str | None = None
    ) -> bool:
        """Load the batch straight into the table when the writer has a bulk path for that (the
        loader calls it only when every column of the batch has the table's type); the batch's rows
        appear at once when the loader commits, or earlier (PostgreSQL commits the transaction's DDL,
        then COPYs and commits on its own connection). `meta`: every row's `_airbyte_meta` when the
        batch has no such column. False: no such path, stage and apply instead."""
        ...

    def close(self) -> None: ...


DUCKDB_CHECKPOINT_THRESHOLD = "256MB"


class DuckDBWriter:
    """Read-write access to the DuckDB file, let go after a commit once held for `hold_seconds`:
    DuckDB lets one process write a file and nobody else open it meanwhile, so Explore and dbt get
    their turn between batches, while a burst of small commits does not reopen the file each time
    (~43 ms a reopen, measured). Opening waits for readers to let go (up to `lock_wait_seconds`)."""

    dialect = "duckdb"
    location: str | None = None

    def __init__(self, path: str | Path, *, lock_wait_seconds: float = 60.0, hold_seconds: float = 1.0):
        self.path = Path(path)
        self.lock_wait_seconds = lock_wait_seconds
        self.hold_seconds = hold_seconds
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._opened_at = 0.0
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
            # The connection closes (and checkpoints) at least every `hold_seconds` after a commit:
            # no checkpoint in between, when the WAL passes DuckDB's 16 MB default (1M rows: append
            # 3.6 -> 2.8-3.2 s, append_dedup 4.1 -> 2.8-3.2 s, closing included, measured).
            self._conn.execute(f"SET checkpoint_threshold = '{DUCKDB_CHECKPOINT_THRESHOLD}'")
            self._opened_at = time.monotonic()
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
        if time.monotonic() - self._opened_at >= self.hold_seconds:
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

    def stage(self, batch: pa.Table, types: dict[str, ColumnType], *, schema: str) -> exp.Table:
        self._begin()
        self.conn.register(STAGE, batch)
        return sql.table(None, STAGE)

    def unstage(self) -> None:
        if self._conn is not None:
            self._conn.unregister(STAGE)

    def insert(
        self, batch: pa.Table, types: dict[str, ColumnType], *, schema: str, table: str, meta: str | None = None
    ) -> bool:
        return False  # the apply statement already scans the Arrow batch in place

    def close(self) -> None:
        self.rollback()
        self._release()

    def __enter__(self) -> DuckDBWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PostgresWriter:
    """One psycopg connection for the whole sync; a transaction per batch (psycopg opens it)."""

    dialect = "postgres"
    location: str | None = None

    def __init__(self, conninfo: str = "", **params: Any):
        self.conn = psycopg.connect(conninfo, autocommit=False, application_name="dalgo-loader", **params)
        self.conn.execute("SET TIME ZONE 'UTC'")
        self.conn.commit()
        self._conninfo = psycopg.conninfo.make_conninfo(conninfo, application_name="dalgo-loader", **params)
        self._bulk: Any = None  # the ADBC connection for binary COPY, opened on first use

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

    def stage(self, batch: pa.Table, types: dict[str, ColumnType], *, schema: str) -> exp.Table:
        columns = _stage_types(batch, types)
        self.execute(sql.create_table(None, STAGE, columns, dialect=self.dialect, temporary=True))
        self._copy(sql.table(None, STAGE), batch, columns)
        return sql.table(None, STAGE)

    def insert(
        self, batch: pa.Table, types: dict[str, ColumnType], *, schema: str, table: str, meta: str | None = None
    ) -> bool:
        """Straight into the table, by binary COPY from Arrow (ADBC's PostgreSQL driver, on a second
        connection): PostgreSQL then parses no text, which took ~30% less server time than CSV for a
        batch with its metadata columns (4.49 s -> ~3.2 s a million rows, measured). This connection's
        transaction (the batch's DDL, which the COPY must see and would otherwise wait on) is committed
        first; the COPY commits on its own, so the batch's rows still appear all at once. Exact
        decimals (text in the batch) and any batch the binary path refuses (a column of a type it
        cannot write, e.g. in a table an older tool created) go by CSV in this transaction. A batch
        without `_airbyte_meta` (every row's is `meta`) gets the column here."""
        if meta is not None:
            batch = _with_meta(batch, meta)
        columns = _stage_types(batch, types)
        if ColumnType.NUMERIC not in columns.values():
            self.conn.commit()
            if self._binary_copy(batch, columns, schema=schema, table=table):
                return True
        self._copy(sql.table(schema, table), batch, columns)
        return True

    def _binary_copy(self, batch: pa.Table, types: dict[str, ColumnType], *, schema: str, table: str) -> bool:
        if self._bulk is None:
            self._bulk = adbc.connect(self._conninfo)
        try:
            with self._bulk.cursor() as cursor:
                cursor.adbc_ingest(table, _for_binary_copy(batch, types), mode="append", db_schema_name=schema)
            self._bulk.commit()
        except adbc.Error as exc:
            self._bulk.rollback()
            log.info("Binary COPY into %s.%s refused (%s); loading the batch as CSV instead.", schema, table, exc)
            return False
        return True

    def _copy(self, into: exp.Table, batch: pa.Table, types: dict[str, ColumnType]) -> None:
        buffer = io.BytesIO()
        pacsv.write_csv(
            _for_copy(batch, types), buffer, pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        )
        view = buffer.getbuffer()
        target = exp.Schema(this=into, expressions=[sql.ident(n) for n in batch.column_names])
        copy_sql = f"COPY {target.sql(self.dialect)} FROM STDIN (FORMAT csv)"
        with self.conn.cursor() as cursor, cursor.copy(copy_sql.encode()) as copy:
            for start in range(0, len(view), COPY_CHUNK):
                copy.write(view[start : start + COPY_CHUNK])
        view.release()

    def unstage(self) -> None:
        self.execute(sql.drop_table(None, STAGE, dialect=self.dialect))

    def close(self) -> None:
        if self._bulk is not None:
            self._bulk.close()
            self._bulk = None
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()

    def __enter__(self) -> PostgresWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Staging column types (load-job schema field types). Exact decimals and JSON travel as text that
# the apply statement casts (CAST AS NUMERIC) or parses (PARSE_JSON), as on the other warehouses.
BIGQUERY_STAGE_TYPES: dict[ColumnType, str] = {
    ColumnType.TEXT: "STRING",
    ColumnType.BIGINT: "INT64",
    ColumnType.DOUBLE: "FLOAT64",
    ColumnType.NUMERIC: "STRING",
    ColumnType.BOOLEAN: "BOOL",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "DATETIME",
    ColumnType.TIMESTAMPTZ: "TIMESTAMP",
    ColumnType.JSON: "STRING",
}
BIGQUERY_STATEMENT_TIMEOUT = 3600.0  # seconds one statement or load job may take
# A staging table older than this was left by a batch that never finished (its process was killed
# between the load and the delete): far past any sync's run (DALGO_SYNC_TIMEOUT, 6 h by default),
# so never the stage of a sync still running.
BIGQUERY_STALE_STAGE_SECONDS = 24 * 3600.0
LIST_PAGE = 1000


class BigQueryWriter:
    """Loads into BigQuery over its REST API (the adapter's `BigQueryClient`: service-account token,
    jobs in the warehouse's location, standard SQL).

    Each batch is a load job (jobs.insert with an upload of newline-delimited JSON, multipart or
    resumable by size, an explicit schema, WRITE_TRUNCATE) into a staging table
    `_dalgo_stage_<random>` in the destination dataset, then one statement (INSERT ... SELECT or
    MERGE) applies it, then the staging table is deleted. Statements run as query jobs under job ids
    of ours (`BigQueryClient.run_statement`: jobs.insert, then jobs.get until DONE), like the load
    jobs. The client retries what BigQuery documents as transient where repeating is safe, and runs a
    job that failed for a transient reason again under a new id (a failed job changed nothing; see
    `dalgo.warehouses.adapters.bigquery`), so a batch's rows still land once. Staging tables of
    batches whose process died before the delete are swept: the first stage into a dataset deletes
    those older than BIGQUERY_STALE_STAGE_SECONDS.

    Transactions: BigQuery commits each statement atomically on its own (a job is all or nothing),
    so `commit` has nothing to do and `rollback` only removes a staging table left by a failed batch.
    What the loader's guarantees rest on still holds: a batch's rows appear by one statement, and a
    state reaches its callback only after that statement finished. DDL run before a failed apply
    (a new column) stays, which is harmless: the loader introspects again. The overwrite swap is one
    CREATE OR REPLACE TABLE ... AS SELECT per table (atomic per table, not across tables).
    Views bind late in BigQuery, so no view depends on a table in the way that blocks replacing it.
    """

    dialect = "bigquery"

    def __init__(
        self,
        *,
        service_account_info: dict[str, Any],
        project: str,
        location: str,
        dataset: str | None = None,
        transport: Any = None,  # an httpx transport (tests)
        statement_timeout_seconds: float = BIGQUERY_STATEMENT_TIMEOUT,
        retry: RetryPolicy | None = None,  # the client's default unless given (tests: no real sleeping)
    ):
        self.client = BigQueryClient(
            service_account_info=service_account_info, project=project, location=location, dataset=dataset,
            transport=transport, user_agent="dalgo-loader", retry=retry,
        )  # fmt: skip
        self.location: str | None = self.client.location
        self.statement_timeout_seconds = statement_timeout_seconds
        self._staged: tuple[str, str] | None = None  # (dataset, table) of the batch being applied
        self._swept: set[str] = set()  # datasets whose stale staging tables were looked for

    def __repr__(self) -> str:
        return f"BigQueryWriter({self.client!r})"

    def _table_path(self, dataset: str, table: str | None = None) -> str:
        path = f"/projects/{quote(self.client.project, safe='')}/datasets/{quote(dataset, safe='')}/tables"
        return f"{path}/{quote(table, safe='')}" if table is not None else path

    def execute(self, statement: str) -> None:
        self.client.run_statement(statement, timeout_seconds=self.statement_timeout_seconds)

    def commit(self) -> None:
        pass  # every statement committed when its job finished

    def rollback(self) -> None:
        try:
            self.unstage()
        except WarehouseError as exc:  # already failing: report the first error, not this one
            log.warning("Could not delete the BigQuery staging table: %s", exc.detail)
            self._staged = None

    def table_columns(self, schema: str, table: str) -> dict[str, ColumnType] | None:
        response, body = self.client.call("GET", self._table_path(schema, table))
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            self.client.fail(response)
        fields = (body.get("schema") or {}).get("fields") or []
        return {str(f["name"]): type_from_bigquery(f) for f in fields if isinstance(f, dict) and f.get("name")} or None

    def tables(self, schema: str) -> list[str]:
        return [str((entry.get("tableReference") or {})["tableId"]) for entry in self._listed(schema)]

    def _listed(self, schema: str) -> list[dict[str, Any]]:
        """tables.list, every page: the entries that name a table (none when there is no dataset yet)."""
        entries: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            response, body = self.client.call(
                "GET", self._table_path(schema), params={"maxResults": LIST_PAGE, "pageToken": token}
            )
            if response.status_code == 404:
                return entries  # no dataset yet
            if response.status_code >= 400:
                self.client.fail(response)
            for entry in body.get("tables") or []:
                if isinstance(entry, dict) and (entry.get("tableReference") or {}).get("tableId"):
                    entries.append(entry)
            token = body.get("nextPageToken")
            if not token:
                return entries

    def _sweep_stages(self, schema: str) -> None:
        """Delete the staging tables in the dataset older than BIGQUERY_STALE_STAGE_SECONDS (tables.list
        gives each table's creationTime, in milliseconds since the epoch): left by batches whose
        process was killed between the load and the delete. Best effort: a failure is logged and the
        batch goes on (the next sync sweeps again)."""
        cutoff_ms = (time.time() - BIGQUERY_STALE_STAGE_SECONDS) * 1000
        swept: list[str] = []
        try:
            stale = []
            for entry in self._listed(schema):
                name = str(entry["tableReference"]["tableId"])
                try:
                    created_ms = float(str(entry.get("creationTime")))  # an int64, sent as a JSON string
                except ValueError:
                    continue
                if _is_bigquery_stage(name) and created_ms < cutoff_ms:
                    stale.append(name)
            for name in stale:
                response, _ = self.client.call("DELETE", self._table_path(schema, name))
                if response.status_code >= 400 and response.status_code != 404:
                    self.client.fail(response)
                swept.append(name)
        except WarehouseError as exc:
            log.warning("Could not sweep old BigQuery staging tables from %s: %s", schema, exc.detail)
        if swept:
            log.info(
                "Deleted %d BigQuery staging table(s) older than %g h from %s, left by batches that did not "
                "finish: %s", len(swept), BIGQUERY_STALE_STAGE_SECONDS / 3600, schema, ", ".join(swept),
            )  # fmt: skip

    def dependents(self, schema: str, table: str) -> list[str]:
        return []  # BigQuery views are bound when queried: replacing a table keeps them working

    def stage(self, batch: pa.Table, types: dict[str, ColumnType], *, schema: str) -> exp.Table:
        self.rollback()  # a stage left by an earlier failure
        if schema not in self._swept:
            self._swept.add(schema)
            self._sweep_stages(schema)
        name = f"{STAGE}_{uuid.uuid4().hex[:12]}"
        stage_types = _stage_types(batch, types)
        fields = [{"name": n, "type": BIGQUERY_STAGE_TYPES[t], "mode": "NULLABLE"} for n, t in stage_types.items()]
        load = {
            "destinationTable": {"projectId": self.client.project, "datasetId": schema, "tableId": name},
            "schema": {"fields": fields},
            "sourceFormat": "NEWLINE_DELIMITED_JSON",
            "writeDisposition": "WRITE_TRUNCATE",
            "createDisposition": "CREATE_IF_NEEDED",
            "ignoreUnknownValues": False,
            "maxBadRecords": 0,
        }
        self._staged = (schema, name)
        self.client.insert_job({"load": load}, media=_ndjson(batch), timeout_seconds=self.statement_timeout_seconds)
        return sql.table(schema, name)

    def unstage(self) -> None:
        if self._staged is None:
            return
        response, _ = self.client.call("DELETE", self._table_path(*self._staged))
        if response.status_code >= 400 and response.status_code != 404:
            self.client.fail(response)
        self._staged = None

    def insert(
        self, batch: pa.Table, types: dict[str, ColumnType], *, schema: str, table: str, meta: str | None = None
    ) -> bool:
        return False  # a load job straight into the table would skip the apply statement's casts to JSON

    def close(self) -> None:
        try:
            self.rollback()
        finally:
            self.client.close()

    def __enter__(self) -> BigQueryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_bigquery_stage(name: str) -> bool:
    """Whether a table name is one BigQueryWriter.stage makes: `_dalgo_stage_` and 12 hex digits."""
    suffix = name.removeprefix(f"{STAGE}_")
    return suffix != name and len(suffix) == 12 and all(c in "0123456789abcdef" for c in suffix)


def _ndjson(batch: pa.Table) -> bytes:
    """The batch as newline-delimited JSON for a load job. Timestamps are UTC wall-clock text without
    a zone ("2024-03-01 04:30:00.000000"), which BigQuery reads as UTC for TIMESTAMP and as written
    for DATETIME; dates are ISO text; NaN and infinities become null (JSON has no such numbers)."""
    columns = []
    for column in batch.columns:
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("us")).cast(pa.string())
        elif pa.types.is_date(column.type):
            column = column.cast(pa.string())
        columns.append(column)
    rows = pa.Table.from_arrays(columns, names=batch.column_names).to_pylist()
    return b"\n".join(orjson.dumps(row) for row in rows) + b"\n"


def _stage_types(batch: pa.Table, types: dict[str, ColumnType]) -> dict[str, ColumnType]:
    """The batch's columns with their types: data columns as the loader typed them, then metadata."""
    return {n: types[n] if n in types else _metadata_stage_type(n) for n in batch.column_names}


def _metadata_stage_type(name: str) -> ColumnType:
    if name == EXTRACTED_AT:
        return ColumnType.TIMESTAMPTZ
    if name in (sql.SEQ, GENERATION_ID):
        return ColumnType.BIGINT
    if name == META:
        return ColumnType.JSON  # JSON text, as the table's column (BigQuery stages JSON as STRING)
    return ColumnType.TEXT  # _airbyte_raw_id


def _with_meta(batch: pa.Table, meta: str) -> pa.Table:
    """The batch with its `_airbyte_meta` column: `meta` in every row."""
    return batch.append_column(META, pa.repeat(pa.scalar(meta, pa.string()), batch.num_rows))


def _for_binary_copy(batch: pa.Table, types: dict[str, ColumnType]) -> pa.Table:
    """Ready for binary COPY: JSON text as jsonb's binary form (a version byte, 1, then the text),
    and no U+0000, which PostgreSQL text and jsonb cannot hold."""
    columns = []
    for name, column in zip(batch.column_names, batch.columns, strict=True):
        if pa.types.is_string(column.type):
            json = types.get(name) == ColumnType.JSON
            column = _without_nul(column, json=json)
            if json:
                empty = pa.scalar(b"", pa.binary())
                version = pa.scalar(b"\x01", pa.binary())
                column = pc.binary_join_element_wise(version, column.cast(pa.binary()), empty)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=batch.column_names)


def _without_nul(column: Any, *, json: bool) -> Any:
    pattern = "\\u0000" if json else "\x00"
    if pc.any(pc.match_substring(column, pattern)).as_py():
        return pc.replace_substring(column, pattern, "")
    return column


def _for_copy(batch: pa.Table, types: dict[str, ColumnType]) -> pa.Table:
    """Ready for CSV: UTC timestamps as plain UTC wall-clock values (the session's time zone is UTC;
    Arrow formats zoned timestamps ~50x slower), and no U+0000, which PostgreSQL text and jsonb
    cannot hold (rare: some APIs send it)."""
    columns = []
    for name, column in zip(batch.column_names, batch.columns, strict=True):
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = column.cast(pa.timestamp(column.type.unit))
        elif pa.types.is_string(column.type):
            column = _without_nul(column, json=types.get(name) == ColumnType.JSON)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=batch.column_names)
