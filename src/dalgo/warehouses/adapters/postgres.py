"""A PostgreSQL warehouse through SQLAlchemy (psycopg 3). Reads run in READ ONLY transactions
with a statement_timeout; engines (with a small pool) are reused per connection settings."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from dalgo.warehouses.adapters.base import (
    Catalog,
    ColumnKind,
    QueryResult,
    QueryTimeout,
    StreamedResult,
    WarehouseAuthFailed,
    WarehouseError,
    WarehouseMissing,
    WarehousePrivileges,
    WarehouseUnreachable,
)
from dalgo.warehouses.adapters.duckdb import catalog_from_rows

CONNECT_TIMEOUT_SECONDS = 5
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()

NUMBER_TYPES = {"smallint", "integer", "bigint", "numeric", "real", "double precision", "decimal", "money"}


def postgres_kind(type_name: str) -> ColumnKind:
    t = type_name.lower()
    if t in NUMBER_TYPES:
        return ColumnKind.NUMBER
    if t in {"text", "character varying", "character", "varchar", "char", "uuid", "citext", "name"}:
        return ColumnKind.TEXT
    if t == "date":
        return ColumnKind.DATE
    if t.startswith("timestamp"):
        return ColumnKind.DATETIME
    if t == "boolean":
        return ColumnKind.BOOLEAN
    if t in {"json", "jsonb", "array", "user-defined"}:
        return ColumnKind.JSON
    return ColumnKind.OTHER


def _error_from(exc: DBAPIError, *, host: str, port: int, database: str, username: str) -> WarehouseError:
    """A message a person can act on, never the password; by SQLSTATE where PostgreSQL gives one."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    text = str(orig).strip().splitlines()[-1] if orig else str(exc)
    lowered = str(orig).lower()
    if sqlstate in ("28P01", "28000") or "password authentication failed" in lowered or "no password" in lowered:
        return WarehouseAuthFailed(
            f"PostgreSQL refused the login for user {username!r}: check the user name and password.",
            fields={"config.password": "Refused by the server."},
        )
    if sqlstate == "3D000" or ("does not exist" in lowered and "database" in lowered):
        return WarehouseMissing(
            f"The database {database!r} does not exist on {host}:{port}.", fields={"config.database": "Not found."}
        )
    if sqlstate == "42501" or "permission denied" in lowered:
        return WarehousePrivileges(
            f"User {username!r} lacks a privilege: {text}", fields={"config.username": "Insufficient privileges."}
        )
    if isinstance(exc, OperationalError):
        return WarehouseUnreachable(
            f"Cannot reach PostgreSQL at {host}:{port} within {CONNECT_TIMEOUT_SECONDS} s ({text}).",
            fields={"config.host": "Unreachable."},
        )
    return WarehouseError(f"PostgreSQL error: {text}")


def _sql(conn: sa.Connection, statement: str) -> sa.CursorResult[Any]:
    """Run SQL that has no parameters: '%' is literal here, not a psycopg placeholder."""
    return conn.exec_driver_sql(statement.replace("%", "%%"))


class PostgresAdapter:
    dialect = "postgres"

    def __init__(
        self,
        *,
        host: str,
        port: int = 5432,
        database: str,
        username: str,
        password: str = "",
        sslmode: str = "prefer",
        ssl_root_cert: str = "",
    ):
        self.host, self.port, self.database, self.username = host, int(port), database, username
        self._password, self.sslmode, self.ssl_root_cert = password, sslmode, ssl_root_cert
        self._root_cert_file: str | None = None

    def _engine(self) -> Engine:
        key = hashlib.sha256(
            repr((self.host, self.port, self.database, self.username, self._password, self.sslmode,
                  self.ssl_root_cert)).encode()
        ).hexdigest()  # fmt: skip
        with _engines_lock:
            engine = _engines.get(key)
            if engine is None:
                connect_args = self._ssl_params() | {"connect_timeout": CONNECT_TIMEOUT_SECONDS,
                                                      "application_name": "dalgo"}  # fmt: skip
                url = URL.create(
                    "postgresql+psycopg", username=self.username, password=self._password or None,
                    host=self.host, port=self.port, database=self.database,
                )  # fmt: skip
                engine = sa.create_engine(
                    url, connect_args=connect_args, pool_size=5, max_overflow=5, pool_pre_ping=True,
                    pool_recycle=300, hide_parameters=True,
                )  # fmt: skip
                _engines[key] = engine
            return engine

    def _ssl_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"sslmode": self.sslmode}
        if self.ssl_root_cert:
            if self._root_cert_file is None:
                cert = tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False)
                cert.write(self.ssl_root_cert)
                cert.close()
                self._root_cert_file = cert.name
            params["sslrootcert"] = self._root_cert_file
        return params

    def psycopg_params(self) -> dict[str, Any]:
        """The same server and settings as psycopg.connect() keywords, for the loader's own connection."""
        return self._ssl_params() | {
            "host": self.host, "port": self.port, "dbname": self.database, "user": self.username,
            "password": self._password or None, "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        }  # fmt: skip

    def _fail(self, exc: DBAPIError) -> WarehouseError:
        return _error_from(exc, host=self.host, port=self.port, database=self.database, username=self.username)

    def test(self) -> str:
        try:
            with self._engine().connect() as conn:
                version = _sql(conn, "SHOW server_version").scalar()
                _sql(conn, "SELECT 1")
        except DBAPIError as exc:
            raise self._fail(exc) from None
        tables = len(self.catalog().tables)
        return f"Connected to PostgreSQL {version} ({tables} table{'s' if tables != 1 else ''} visible)."

    def catalog(self) -> Catalog:
        sql = """
            SELECT c.table_schema, c.table_name, t.table_type, c.column_name,
                   CASE WHEN c.data_type = 'USER-DEFINED' THEN c.udt_name ELSE c.data_type END, c.is_nullable
            FROM information_schema.columns c
            JOIN information_schema.tables t
              ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
              AND c.table_schema NOT LIKE 'pg\\_%'
            ORDER BY c.table_schema, c.table_name, c.ordinal_position
        """
        try:
            with self._engine().connect() as conn:
                rows = [tuple(r) for r in _sql(conn, sql).fetchall()]
        except DBAPIError as exc:
            raise self._fail(exc) from None
        return catalog_from_rows(rows, kind_of=postgres_kind)

    def _read_only(self, conn: sa.Connection, timeout_seconds: float) -> None:
        _sql(conn, "SET TRANSACTION READ ONLY")
        _sql(conn, f"SET LOCAL statement_timeout = {int(timeout_seconds * 1000)}")
        _sql(conn, "SET LOCAL TIME ZONE 'UTC'")

    def query(self, sql: str, *, timeout_seconds: float, max_rows: int) -> QueryResult:
        try:
            with self._engine().connect() as conn, conn.begin():
                self._read_only(conn, timeout_seconds)
                result = _sql(conn, sql)
                columns = list(result.keys())
                rows = [tuple(r) for r in result.fetchmany(max_rows + 1)]
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "57014":
                raise QueryTimeout(f"The query took longer than {timeout_seconds:.0f} s and was stopped.") from None
            raise self._fail(exc) from None
        return QueryResult(columns=columns, rows=rows[:max_rows], truncated=len(rows) > max_rows)

    def stream(self, sql: str, *, timeout_seconds: float, batch_size: int = 10_000) -> StreamedResult:
        """A server-side cursor: constant memory however many rows."""
        conn = self._engine().connect()
        try:
            transaction = conn.begin()
            self._read_only(conn, timeout_seconds)
            result = _sql(conn.execution_options(stream_results=True, max_row_buffer=batch_size), sql)
        except DBAPIError as exc:
            conn.close()
            raise self._fail(exc) from None
        columns = list(result.keys())

        def batches() -> Iterator[list[tuple[Any, ...]]]:
            try:
                while batch := result.fetchmany(batch_size):
                    yield [tuple(r) for r in batch]
                transaction.commit()
            finally:
                conn.close()

        return StreamedResult(columns=columns, batches=batches())

    def export_csv(self, sql: str, *, timeout_seconds: float) -> Iterator[bytes]:
        """PostgreSQL writes the CSV itself (COPY ... TO STDOUT), streamed chunk by chunk."""
        raw = self._engine().raw_connection()
        try:
            dbapi = raw.driver_connection
            assert dbapi is not None
            with dbapi.cursor() as cursor:
                cursor.execute("BEGIN READ ONLY")
                cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_seconds * 1000)}")
                cursor.execute("SET LOCAL TIME ZONE 'UTC'")
                with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                    for chunk in copy:
                        yield bytes(chunk)
                cursor.execute("COMMIT")
        except DBAPIError as exc:
            raise self._fail(exc) from None
        except Exception as exc:
            if getattr(exc, "sqlstate", None) == "57014":
                raise QueryTimeout(f"The export took longer than {timeout_seconds:.0f} s and was stopped.") from None
            if getattr(exc, "sqlstate", None):
                raise WarehouseError(f"PostgreSQL error: {str(exc).strip().splitlines()[0]}") from None
            raise
        finally:
            raw.close()

    def session(self) -> AbstractContextManager[None]:
        return nullcontext()  # the engine's pool already reuses connections

    def close(self) -> None:
        pass
