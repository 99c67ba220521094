"""What every warehouse adapter offers: a connection test, the introspected catalog, queries with
a timeout and a row cap, and streamed results. SQL reaching an adapter comes from `warehouses.sql`
(generated with sqlglot, literals typed and escaped there) or passed its free-SQL guard."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from dalgo.core.errors import DalgoError, NotFound


class ColumnKind(StrEnum):
    """What statistics and operators make sense for a column, whatever its native type."""

    NUMBER = "number"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    JSON = "json"
    OTHER = "other"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the warehouse's own type name, e.g. "BIGINT", "timestamp with time zone", "STRING"
    kind: ColumnKind
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str = "table"  # "table" | "view"
    columns: tuple[Column, ...] = ()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Catalog:
    """The warehouse's schemas, tables and columns as introspected: the allowlist of identifiers."""

    tables: tuple[Table, ...] = ()

    def schemas(self) -> list[str]:
        return sorted({t.schema for t in self.tables})

    def table(self, schema: str, name: str) -> Table:
        for table in self.tables:
            if table.schema == schema and table.name == name:
                return table
        raise NotFound(f"No table {schema}.{name} in the warehouse.", code="table_not_found")


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool = False  # more rows existed than max_rows


@dataclass
class StreamedResult:
    columns: list[str]
    batches: Iterator[list[tuple[Any, ...]]] = field(repr=False)


class WarehouseError(DalgoError):
    """A warehouse refused or failed: the message is safe to show (no credentials in it)."""

    status = 400
    code = "warehouse_error"


class WarehouseUnreachable(WarehouseError):
    code = "warehouse_unreachable"


class WarehouseAuthFailed(WarehouseError):
    code = "warehouse_auth_failed"


class WarehouseMissing(WarehouseError):
    """The database, project or dataset named in the settings does not exist."""

    code = "warehouse_missing"


class WarehousePrivileges(WarehouseError):
    code = "warehouse_privileges"


class QueryTimeout(WarehouseError):
    status = 504
    code = "query_timeout"


class WarehouseAdapter(Protocol):
    dialect: str  # the sqlglot dialect: "duckdb" | "postgres" | "bigquery"

    def test(self) -> str:
        """Connect, authenticate and read the catalog; return a short success message.
        Raises WarehouseUnreachable / WarehouseAuthFailed / WarehouseMissing / WarehousePrivileges."""
        ...

    def catalog(self) -> Catalog: ...

    def query(self, sql: str, *, timeout_seconds: float, max_rows: int) -> QueryResult:
        """Run one statement; at most max_rows rows come back (truncated says if there were more).
        Raises QueryTimeout after timeout_seconds, WarehouseError for anything else."""
        ...

    def stream(self, sql: str, *, timeout_seconds: float, batch_size: int = 10_000) -> StreamedResult:
        """Run one statement and yield its rows in batches without holding them all in memory."""
        ...

    def export_csv(self, sql: str, *, timeout_seconds: float) -> Iterator[bytes]:
        """The statement's rows as CSV with a header, written by the warehouse itself where it can
        (PostgreSQL COPY, DuckDB Arrow batches), in chunks: constant memory."""
        ...

    def session(self) -> AbstractContextManager[None]:
        """Within the block, queries share one connection (several queries in a row)."""
        ...

    def close(self) -> None: ...
