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

const byId = (sourceId: number) => ({ params: { path: { source_id: sourceId } } });

export const ingestKeys = {
  connectors: (org: string) => ["org", org, "connectors"] as const,
  spec: (org: string, connector: string) => ["org", org, "connector-spec", connector] as const,
  sources: (org: string) => ["org", org, "sources"] as const,
  // Not under `sources`: deleting a source must not refetch it.
  source: (org: string, id: number) => ["org", org, "source", id] as const,
  streams: (org: string, id: number) => ["org", org, "source", id, "streams"] as const,
};

export const ingestApi = {
  connectors: () => unwrap(client.GET("/api/connectors")),
  spec: (slug: string) => unwrap(client.GET("/api/connectors/{slug}/spec", { params: { path: { slug } } })),
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
