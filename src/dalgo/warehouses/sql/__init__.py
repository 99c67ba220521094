"""The single place Dalgo generates SQL for warehouses ("duckdb", "postgres", "bigquery").

- `SqlBuilder(dialect, catalog)`: preview, count, select_all, column_profile (+ parse_column_profile),
  top_values, date_histogram, numeric_histogram; filters are `Filter(column, op, value)`.
- `free_sql_check(sql, dialect=, allowed_schemas=, max_rows=)`: the guard for SQL written by a
  person or a model: one read-only SELECT over the allowed schemas, capped with a LIMIT.
"""

from dalgo.warehouses.sql.builder import PROFILE_STATS, SqlBuilder, parse_column_profile
from dalgo.warehouses.sql.filters import OPS, Filter
from dalgo.warehouses.sql.free import free_sql_check

__all__ = ["OPS", "PROFILE_STATS", "Filter", "SqlBuilder", "free_sql_check", "parse_column_profile"]
