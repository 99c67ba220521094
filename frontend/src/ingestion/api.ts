import { client, unwrap, type Schemas } from "../api/client";

export type Connector = Schemas["ConnectorOut"];
export type ConnectorSpec = Schemas["ConnectorSpecOut"];
export type Source = Schemas["SourceOut"];
export type SourceIn = Schemas["SourceIn"];
export type SourceUpdateIn = Schemas["SourceUpdateIn"];
export type SourceCheckIn = Schemas["SourceCheckIn"];
export type CheckResult = Schemas["CheckOut"];
export type SourceStreams = Schemas["SourceStreamsOut"];
export type SourceStream = SourceStreams["streams"][number];
export type Connection = Schemas["ConnectionOut"];
export type ConnectionIn = Schemas["ConnectionIn"];
export type ConnectionUpdateIn = Schemas["ConnectionUpdateIn"];
export type ConnectionStream = Schemas["ConnectionStreamOut"];
export type ConnectionStreamIn = Schemas["ConnectionStreamIn"];
export type SchemaChange = Schemas["SchemaChangeOut"];
export type ConnectionState = Schemas["StateOut"];
/** A sync run: `progress` while it runs, `result` at the end (both null before anything was counted). */
export type SyncRun = Schemas["SyncRunOut"];
export type SyncStats = Schemas["SyncStatsOut"];
export type StreamStats = Schemas["StreamStatsOut"];
export type StreamStatus = StreamStats["status"];
export type SyncMode = ConnectionStream["sync_mode"];
export type DestinationMode = ConnectionStream["destination_mode"];

/** The connector slug of a custom connector (any pip requirement or local path speaking the Airbyte protocol). */
export const CUSTOM_CONNECTOR = "custom";

const byId = (sourceId: number) => ({ params: { path: { source_id: sourceId } } });

export const ingestKeys = {
  connectors: (org: string) => ["org", org, "connectors"] as const,
  /** `pkg`: a custom connector's requirement or path. */
  spec: (org: string, connector: string, pkg?: string) => ["org", org, "connector-spec", connector, pkg ?? null] as const,
  sources: (org: string) => ["org", org, "sources"] as const,
  // Not under `sources`: deleting a source must not refetch it.
  source: (org: string, id: number) => ["org", org, "source", id] as const,
  streams: (org: string, id: number) => ["org", org, "source", id, "streams"] as const,
  connections: (org: string) => ["org", org, "connections"] as const,
  // Not under `connections`, for the same reason; its syncs, runs and state are under it.
  connection: (org: string, id: number) => ["org", org, "connection", id] as const,
  syncs: (org: string, id: number) => ["org", org, "connection", id, "syncs"] as const,
  sync: (org: string, id: number, runId: string) => ["org", org, "connection", id, "sync", runId] as const,
  state: (org: string, id: number) => ["org", org, "connection", id, "state"] as const,
};

export const ingestApi = {
  connectors: () => unwrap(client.GET("/api/connectors")),
  /** A connector's spec (installing it on first use); a custom one (`custom`) is named by `pkg`. */
  spec: (slug: string, pkg?: string) =>
    unwrap(client.GET("/api/connectors/{slug}/spec", { params: { path: { slug }, query: pkg ? { package: pkg } : undefined } })),
  sources: () => unwrap(client.GET("/api/sources")),
  source: (id: number) => unwrap(client.GET("/api/sources/{source_id}", byId(id))),
  check: (body: SourceCheckIn) => unwrap(client.POST("/api/sources/check", { body })),
  create: (body: SourceIn) => unwrap(client.POST("/api/sources", { body })),
  update: ({ id, ...body }: SourceUpdateIn & { id: number }) => unwrap(client.PUT("/api/sources/{source_id}", { ...byId(id), body })),
  remove: (id: number) => unwrap(client.DELETE("/api/sources/{source_id}", byId(id))),
  checkSaved: (id: number) => unwrap(client.POST("/api/sources/{source_id}/check", byId(id))),
  /** The source's streams; `refresh` (or nothing cached yet) runs the connector's discover, a few seconds. */
  streams: ({ id, refresh }: { id: number; refresh: boolean }) =>
    unwrap(client.GET("/api/sources/{source_id}/streams", { params: { path: { source_id: id }, query: { refresh } } })),
};

const connectionPath = (id: number) => ({ params: { path: { connection_id: id } } });
const runPath = (id: number, runId: string) => ({ params: { path: { connection_id: id, run_id: runId } } });

export const connectionApi = {
  list: () => unwrap(client.GET("/api/connections")),
  get: (id: number) => unwrap(client.GET("/api/connections/{connection_id}", connectionPath(id))),
  create: (body: ConnectionIn) => unwrap(client.POST("/api/connections", { body })),
  update: ({ id, ...body }: ConnectionUpdateIn & { id: number }) =>
    unwrap(client.PUT("/api/connections/{connection_id}", { ...connectionPath(id), body })),
  remove: (id: number) => unwrap(client.DELETE("/api/connections/{connection_id}", connectionPath(id))),
  /** Starts a sync: 201 with the run; 409 `sync_running` (`related.run_id`) while one runs. */
  sync: (id: number) => unwrap(client.POST("/api/connections/{connection_id}/sync", connectionPath(id))),
  syncs: (id: number) => unwrap(client.GET("/api/connections/{connection_id}/syncs", connectionPath(id))),
  run: (id: number, runId: string) => unwrap(client.GET("/api/connections/{connection_id}/syncs/{run_id}", runPath(id, runId))),
  logs: (id: number, runId: string, offset: number) =>
    unwrap(
      client.GET("/api/connections/{connection_id}/syncs/{run_id}/logs", {
        params: { path: { connection_id: id, run_id: runId }, query: { offset } },
      }),
    ),
  cancel: ({ id, runId }: { id: number; runId: string }) =>
    unwrap(client.POST("/api/connections/{connection_id}/syncs/{run_id}/cancel", runPath(id, runId))),
  /** Drops the tables of `streams` (null = all) and forgets their saved state. */
  clear: ({ id, streams }: { id: number; streams: string[] | null }) =>
    unwrap(client.POST("/api/connections/{connection_id}/clear", { ...connectionPath(id), body: { streams } })),
  state: (id: number) => unwrap(client.GET("/api/connections/{connection_id}/state", connectionPath(id))),
  schemaRefresh: (id: number) => unwrap(client.POST("/api/connections/{connection_id}/schema/refresh", connectionPath(id))),
  schemaApprove: (id: number) => unwrap(client.POST("/api/connections/{connection_id}/schema/approve", connectionPath(id))),
};
