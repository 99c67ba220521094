import { client, unwrap, type Schemas } from "../api/client";
import { isApiError } from "../api/errors";

// The warehouse and explore endpoints. Response shapes are the generated OpenAPI types.

export type JsonSchema = Schemas["WarehouseTypeOut"]["schema"];
export type WarehouseType = Schemas["WarehouseTypeOut"];
export type WarehouseTypeName = WarehouseType["type"];
export type Warehouse = Schemas["WarehouseOut"];
export type WarehouseIn = Schemas["WarehouseIn"];
export type TestResult = Schemas["TestOut"];
export type Dependents = Schemas["DependentsOut"];
export type ColumnInfo = Schemas["ColumnOut"];
export type ColumnKind = ColumnInfo["kind"];
export type TreeTable = Schemas["TableOut"];
export type Tree = Schemas["TreeOut"];
export type Preview = Schemas["PreviewOut"];
export type ColumnStats = Schemas["ColumnStatisticsOut"];
export type Statistics = Schemas["StatisticsOut"];
export type StatsStatus = Statistics["status"];

export interface PreviewQuery {
  limit: number;
  offset: number;
  sort?: string;
  direction?: "asc" | "desc";
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

export const warehouseApi = {
  types: () => unwrap(client.GET("/api/warehouse/types")),
  get: () => orNull(unwrap(client.GET("/api/warehouse")), "no_warehouse"),
  test: (body: WarehouseIn) => unwrap(client.POST("/api/warehouse/test", { body })),
  save: (body: WarehouseIn) => unwrap(client.PUT("/api/warehouse", { body })),
  check: () => unwrap(client.POST("/api/warehouse/check")),
  dependents: () => unwrap(client.GET("/api/warehouse/dependents")),
  remove: (confirm: string) => unwrap(client.DELETE("/api/warehouse", { params: { query: { confirm } } })),
};

export const exploreApi = {
  tree: (refresh = false) =>
    orNull(unwrap(client.GET("/api/explore/tree", { params: { query: { refresh } } })), "no_warehouse"),
  preview: (schema: string, table: string, query: PreviewQuery) =>
    unwrap(
      client.GET("/api/explore/tables/{schema}/{table}/preview", { params: { ...at(schema, table).params, query } }),
    ),
  statistics: (schema: string, table: string) =>
    orNull(
      unwrap(client.GET("/api/explore/tables/{schema}/{table}/statistics", at(schema, table))),
      "no_statistics",
    ),
  computeStatistics: (schema: string, table: string) =>
    unwrap(client.POST("/api/explore/tables/{schema}/{table}/statistics", at(schema, table))),
  /** A plain link (the org travels as ?org= since a download cannot send the X-Dalgo-Org header). */
  downloadUrl: (schema: string, table: string, org: string) =>
    `/api/explore/tables/${encodeURIComponent(schema)}/${encodeURIComponent(table)}/download?org=${encodeURIComponent(org)}`,
};
