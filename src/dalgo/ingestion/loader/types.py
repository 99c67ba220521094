"""Column types of landed tables: from a stream's JSON schema, from values seen in records, and how
two types widen into one that holds both (schema evolution)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlglot import exp


class ColumnType(StrEnum):
    TEXT = "text"
    BIGINT = "bigint"
    DOUBLE = "double"
    NUMERIC = "numeric"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"  # without time zone
    TIMESTAMPTZ = "timestamptz"
    JSON = "json"


# The metadata columns Airbyte destinations add (typing and deduping "v2"), so dbt projects written
# for Airbyte-landed data keep working.
RAW_ID = "_airbyte_raw_id"
EXTRACTED_AT = "_airbyte_extracted_at"
META = "_airbyte_meta"
GENERATION_ID = "_airbyte_generation_id"
METADATA_COLUMNS: dict[str, ColumnType] = {
    RAW_ID: ColumnType.TEXT,
    EXTRACTED_AT: ColumnType.TIMESTAMPTZ,
    META: ColumnType.JSON,
    GENERATION_ID: ColumnType.BIGINT,
}

_NUMBERS = (ColumnType.BIGINT, ColumnType.DOUBLE, ColumnType.NUMERIC)
_TIMES = (ColumnType.DATE, ColumnType.TIMESTAMP, ColumnType.TIMESTAMPTZ)


def widen(a: ColumnType, b: ColumnType) -> ColumnType:
    """The narrowest type holding values of both: int+number -> number, date+timestamp -> timestamp,
    anything with JSON -> JSON, other mixes -> text."""
    if a == b:
        return a
    if a in _NUMBERS and b in _NUMBERS:
        return ColumnType.NUMERIC if ColumnType.NUMERIC in (a, b) else ColumnType.DOUBLE
    if a in _TIMES and b in _TIMES:
        return ColumnType.TIMESTAMPTZ if ColumnType.TIMESTAMPTZ in (a, b) else ColumnType.TIMESTAMP
    if ColumnType.TEXT in (a, b):
        return ColumnType.TEXT
    if ColumnType.JSON in (a, b):
        return ColumnType.JSON
    return ColumnType.TEXT


def _one_type(name: str, prop: dict[str, Any]) -> ColumnType:
    if name == "string":
        fmt = prop.get("format")
        airbyte_type = prop.get("airbyte_type")
        if fmt == "date":
            return ColumnType.DATE
        if fmt == "date-time" or airbyte_type in ("timestamp_with_timezone", "timestamp_without_timezone"):
            return ColumnType.TIMESTAMP if airbyte_type == "timestamp_without_timezone" else ColumnType.TIMESTAMPTZ
        return ColumnType.TEXT
    if name == "integer":
        return ColumnType.BIGINT
    if name == "number":
        if prop.get("airbyte_type") == "integer":
            return ColumnType.BIGINT
        return ColumnType.NUMERIC if prop.get("airbyte_type") in ("big_number", "numeric") else ColumnType.DOUBLE
    if name == "boolean":
        return ColumnType.BOOLEAN
    return ColumnType.JSON  # object, array, unknown


def type_from_schema(prop: Any) -> ColumnType:
    """The column type of one JSON-schema property (nullable unions like ["null", "string"])."""
    if not isinstance(prop, dict):
        return ColumnType.JSON
    declared = prop.get("type")
    if declared is None:
        if "oneOf" in prop or "anyOf" in prop or "$ref" in prop:
            return ColumnType.JSON
        return ColumnType.JSON if prop.get("format") is None else _one_type("string", prop)
    names = [declared] if isinstance(declared, str) else [t for t in declared if isinstance(t, str)]
    names = [t for t in names if t != "null"]
    if not names:
        return ColumnType.JSON
    result = _one_type(names[0], prop)
    for other in names[1:]:
        result = widen(result, _one_type(other, prop))
    return result


def schema_columns(json_schema: dict[str, Any], selected: tuple[str, ...] | None) -> dict[str, ColumnType]:
    """Top-level properties -> columns, in the schema's order, only the selected ones."""
    properties = json_schema.get("properties") or {}
    wanted = None if selected is None else set(selected)
    columns: dict[str, ColumnType] = {}
    for name, prop in properties.items():
        if name in METADATA_COLUMNS or (wanted is not None and name not in wanted):
            continue
        columns[str(name)] = type_from_schema(prop)
    return columns


def type_of_value(value: Any) -> ColumnType | None:
    """The type of a value found in a record for a column the schema does not declare."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ColumnType.BOOLEAN
    if isinstance(value, int):
        return ColumnType.BIGINT
    if isinstance(value, float):
        return ColumnType.DOUBLE
    if isinstance(value, str):
        return ColumnType.TEXT
    return ColumnType.JSON


def sql_type(column_type: ColumnType, dialect: str) -> exp.DataType:
    """The warehouse's type for a column type, as a sqlglot node."""
    if column_type == ColumnType.JSON:
        return exp.DataType.build("JSONB" if dialect == "postgres" else "JSON")
    if column_type == ColumnType.NUMERIC:
        return exp.DataType.build("DECIMAL(38, 9)" if dialect == "duckdb" else "DECIMAL")
    return exp.DataType.build(
        {
            ColumnType.TEXT: "TEXT",
            ColumnType.BIGINT: "BIGINT",
            ColumnType.DOUBLE: "DOUBLE",
            ColumnType.BOOLEAN: "BOOLEAN",
            ColumnType.DATE: "DATE",
            ColumnType.TIMESTAMP: "TIMESTAMP",
            ColumnType.TIMESTAMPTZ: "TIMESTAMPTZ",
        }[column_type]
    )


def type_from_warehouse(type_name: str) -> ColumnType:
    """Introspected type name (DuckDB or PostgreSQL information_schema) -> column type."""
    t = type_name.lower().strip()
    if t in ("bigint", "integer", "smallint", "tinyint", "hugeint", "int", "int8", "int4", "int2", "int64"):
        return ColumnType.BIGINT
    if t in ("double", "double precision", "real", "float", "float4", "float8", "float64"):
        return ColumnType.DOUBLE
    if t.startswith(("decimal", "numeric", "bignumeric")):
        return ColumnType.NUMERIC
    if t in ("boolean", "bool"):
        return ColumnType.BOOLEAN
    if t == "date":
        return ColumnType.DATE
    if t in ("timestamp with time zone", "timestamptz", "timestamp_tz"):
        return ColumnType.TIMESTAMPTZ
    if t.startswith("timestamp") or t == "datetime":
        return ColumnType.TIMESTAMP
    if t in ("json", "jsonb"):
        return ColumnType.JSON
    return ColumnType.TEXT


_BIGQUERY_TYPES: dict[str, ColumnType] = {
    "STRING": ColumnType.TEXT,
    "INTEGER": ColumnType.BIGINT,
    "INT64": ColumnType.BIGINT,
    "FLOAT": ColumnType.DOUBLE,
    "FLOAT64": ColumnType.DOUBLE,
    "NUMERIC": ColumnType.NUMERIC,
    "DECIMAL": ColumnType.NUMERIC,
    "BIGNUMERIC": ColumnType.NUMERIC,
    "BIGDECIMAL": ColumnType.NUMERIC,
    "BOOLEAN": ColumnType.BOOLEAN,
    "BOOL": ColumnType.BOOLEAN,
    "DATE": ColumnType.DATE,
    "DATETIME": ColumnType.TIMESTAMP,  # wall-clock time, no zone
    "TIMESTAMP": ColumnType.TIMESTAMPTZ,  # an instant (shown in UTC)
    "JSON": ColumnType.JSON,
    "RECORD": ColumnType.JSON,
    "STRUCT": ColumnType.JSON,
}


def type_from_bigquery(field: dict[str, Any]) -> ColumnType:
    """A BigQuery schema field (TableFieldSchema: type, mode) -> column type; arrays are JSON."""
    if str(field.get("mode") or "").upper() == "REPEATED":
        return ColumnType.JSON
    return _BIGQUERY_TYPES.get(str(field.get("type") or "").upper(), ColumnType.TEXT)
