import { client, unwrap } from "../api/client";
import { isApiError } from "../api/errors";

// The warehouse and explore endpoints, with the shapes the pages rely on.

export type JsonSchema = Record<string, unknown>;
export type WarehouseTypeName = "duckdb" | "postgres" | "bigquery";
export type ColumnKind = "number" | "text" | "date" | "datetime" | "boolean" | "json" | "other";

export interface WarehouseType {
  type: WarehouseTypeName;
  label: string;
  description: string;
  schema: JsonSchema;
  ui_schema: JsonSchema;
  secret_fields: string[];
}

export interface Warehouse {
  type: WarehouseTypeName;
  name: string;
  config: Record<string, unknown>;
  secrets_set: string[];
  created_at: string;
  updated_at: string;
  last_tested_at: string | null;
  last_test_ok: boolean | null;
  last_test_message: string;
}

export interface WarehouseIn {
  type: WarehouseTypeName;
  name: string;
  config: Record<string, unknown>;
}

export interface TestResult {
  ok: boolean;
  code: string;
  message: string;
  fields?: Record<string, string>;
}

export interface Dependents {
  items: { kind: string; name: string }[];
  message: string;
}

export interface ColumnInfo {
  name: string;
  type: string;
  kind: ColumnKind;
}

export interface TreeTable {
  name: string;
  kind: "table" | "view";
  columns: ColumnInfo[];
}

export interface Tree {
  schemas: { name: string; tables: TreeTable[] }[];
  refreshed_at: string | null;
}

export interface PreviewQuery {
  limit: number;
  offset: number;
  sort?: string;
  direction?: "asc" | "desc";
}

export interface Preview {
  columns: ColumnInfo[];
  rows: unknown[][];
  total_rows: number;
  limit: number;
  offset: number;
}

export interface ColumnStats extends ColumnInfo {
  count: number;
  nulls: number;
  distinct: number | null;
  min: unknown;
  max: unknown;
  mean: number | null;
  median: unknown;
  top_values: { value: unknown; count: number }[] | null;
  histogram: { bucket: string; count: number }[] | null;
  true_count: number | null;
  false_count: number | null;
}

export type StatsStatus = "queued" | "running" | "succeeded" | "failed";

export interface Statistics {
  status: StatsStatus;
  progress: { done?: number; total?: number; current?: string | null } | null;
  requested_at?: string;
  computed_at: string | null;
  error: string | null;
  row_count: number | null;
  columns: ColumnStats[];
}

type TablePath = { params: { path: { schema: string; table: string } } };
const at = (schema: string, table: string): TablePath => ({ params: { path: { schema, table } } });

/** Resolves to null instead of throwing when the API answers 404 with the given code. */
async function orNull<T>(call: Promise<T>, code: string): Promise<T | null> {
  try {
    return await call;
  } catch (e) {
    if (isApiError(e) && e.status === 404 && e.code === code) return null;
    throw e;
  }
}

// The generated types say `string` / `{[key: string]: unknown}` where the backend returns the narrower
// shapes above, hence the casts.
export const warehouseApi = {
  types: () => unwrap(client.GET("/api/warehouse/types")) as Promise<unknown> as Promise<WarehouseType[]>,
  get: () => orNull(unwrap(client.GET("/api/warehouse")) as Promise<Warehouse>, "no_warehouse"),
  test: (body: WarehouseIn) => unwrap(client.POST("/api/warehouse/test", { body })) as Promise<TestResult>,
  save: (body: WarehouseIn) => unwrap(client.PUT("/api/warehouse", { body })) as Promise<Warehouse>,
  check: () => unwrap(client.POST("/api/warehouse/check")) as Promise<TestResult>,
  dependents: () => unwrap(client.GET("/api/warehouse/dependents")) as Promise<Dependents>,
  remove: (confirm: string) => unwrap(client.DELETE("/api/warehouse", { params: { query: { confirm } } })),
};

export const exploreApi = {
  tree: (refresh = false) =>
    orNull(unwrap(client.GET("/api/explore/tree", { params: { query: { refresh } } })) as Promise<Tree>, "no_warehouse"),
  preview: (schema: string, table: string, query: PreviewQuery) =>
    unwrap(
      client.GET("/api/explore/tables/{schema}/{table}/preview", { params: { ...at(schema, table).params, query } }),
    ) as Promise<Preview>,
  statistics: (schema: string, table: string) =>
    orNull(
      unwrap(client.GET("/api/explore/tables/{schema}/{table}/statistics", at(schema, table))) as Promise<unknown> as Promise<Statistics>,
      "no_statistics",
    ),
  computeStatistics: (schema: string, table: string) =>
    unwrap(client.POST("/api/explore/tables/{schema}/{table}/statistics", at(schema, table))) as Promise<unknown> as Promise<Statistics>,
  /** A plain link (the org travels as ?org= since a download cannot send the X-Dalgo-Org header). */
  downloadUrl: (schema: string, table: string, org: string) =>
    `/api/explore/tables/${encodeURIComponent(schema)}/${encodeURIComponent(table)}/download?org=${encodeURIComponent(org)}`,
};
