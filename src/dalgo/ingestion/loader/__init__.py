"""Loads Airbyte-protocol RECORD messages into warehouse tables (see `loader.py`)."""

from dalgo.ingestion.loader.loader import Loader, LoaderError, LoadStats, StreamStats
from dalgo.ingestion.loader.types import ColumnType
from dalgo.ingestion.loader.writers import BigQueryWriter, DuckDBWriter, PostgresWriter, WarehouseWriter

__all__ = [
    "BigQueryWriter",
    "ColumnType",
    "DuckDBWriter",
    "LoadStats",
    "Loader",
    "LoaderError",
    "PostgresWriter",
    "StreamStats",
    "WarehouseWriter",
]
