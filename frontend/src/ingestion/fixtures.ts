/** Test data shaped like the API's answers. */
import type { Connection, ConnectionStream, StreamStats, SyncRun, SyncStats } from "./api";

export const connector = (slug: string, name: string, category: string, favourite: boolean) => ({
  name, slug, package: `airbyte-source-${slug}`, version: "1.0.0", category, summary: `${name} source`,
  docs_url: `https://docs.airbyte.com/integrations/sources/${slug}`, favourite,
});

export const catalogue = [
  connector("commcare", "CommCare", "forms & surveys", true),
  connector("google-sheets", "Google Sheets", "spreadsheets & files", true),
  connector("stripe", "Stripe", "finance", false),
];

/** An Airbyte-style connectionSpecification: order, oneOf with const discriminators, secrets, pattern, examples. */
export const commcareSpec = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Commcare Source Spec",
  type: "object",
  required: ["api_key", "app_id", "start_date"],
  additionalProperties: true,
  properties: {
    app_id: { type: "string", title: "Application ID", order: 1 },
    api_key: { type: "string", title: "API Key", airbyte_secret: true, order: 0 },
    start_date: {
      type: "string", title: "Start date", format: "date-time", order: 2,
      pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", examples: ["2022-10-01T00:00:00Z"],
    },
    credentials: {
      title: "Authentication", type: "object", order: 3,
      oneOf: [
        { title: "Project key", type: "object", required: ["auth_type"], properties: { auth_type: { type: "string", const: "key", order: 0 } } },
        {
          title: "OAuth", type: "object", required: ["auth_type", "client_id", "client_secret"],
          properties: {
            auth_type: { type: "string", const: "oauth", order: 0 },
            client_id: { type: "string", title: "Client ID", order: 1 },
            client_secret: { type: "string", title: "Client secret", order: 2 },
          },
        },
      ],
    },
    forms: { type: "array", title: "Form IDs", items: { type: "string" }, order: 4 },
    region: { type: "string", title: "Region", enum: ["us", "eu"], default: "eu", order: 5 },
  },
};

export const commcareSpecOut = {
  slug: "commcare", name: "CommCare", package: "airbyte-source-commcare", version: "0.1.0",
  documentation_url: "https://docs.airbyte.com/integrations/sources/commcare",
  spec: commcareSpec,
  secret_paths: [["api_key"], ["credentials", "client_secret"]],
};

export const savedSource = (over: Record<string, unknown> = {}) => ({
  id: 7, name: "Field forms", connector_slug: "commcare", connector_name: "CommCare", package: "airbyte-source-commcare",
  version: "0.1.0",
  config: { api_key: "********", app_id: "app-1", start_date: "2024-01-01T00:00:00Z", credentials: { auth_type: "key" }, region: "eu" },
  created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-02T00:00:00Z", last_checked_at: "2026-01-02T00:00:00Z",
  last_check_ok: true, last_check_message: "Connected.", connections: [], ...over,
});

// ---- connections ---------------------------------------------------------------------------------

/** A source's discovered streams: `forms` (incremental, source-defined key and cursor), `cases` (full refresh only,
 * no key), `visits` (incremental without a source-defined cursor or key). */
export const sourceStreams = {
  discovered_at: "2026-01-02T00:00:00Z",
  streams: [
    {
      name: "forms", namespace: null, supported_sync_modes: ["full_refresh", "incremental"], source_defined_cursor: true,
      default_cursor_field: ["indexed_on"], source_defined_primary_key: [["id"]],
      columns: [{ name: "id", type: "string" }, { name: "indexed_on", type: "date-time" }, { name: "answers", type: "object" }],
    },
    {
      name: "cases", namespace: null, supported_sync_modes: ["full_refresh"], source_defined_cursor: false,
      default_cursor_field: [], source_defined_primary_key: [], columns: [{ name: "case_id", type: "string" }, { name: "owner", type: "string" }],
    },
    {
      name: "visits", namespace: null, supported_sync_modes: ["full_refresh", "incremental"], source_defined_cursor: false,
      default_cursor_field: [], source_defined_primary_key: [],
      columns: [{ name: "visit_id", type: "integer" }, { name: "visited_at", type: "date-time" }, { name: "notes", type: "string" }],
    },
  ],
};

/** A SyncRunOut (nothing counted yet: `progress` and `result` null). */
export const syncRun = (over: Partial<SyncRun> = {}): SyncRun => ({
  id: "run-1", kind: "connection_sync", status: "succeeded", created_by: "ada@ngo.org", created_at: "2026-01-03T10:00:00Z",
  started_at: "2026-01-03T10:00:01Z", finished_at: "2026-01-03T10:00:31Z", duration_seconds: 30, flow_run_id: "",
  progress: null, result: null, error: "", ...over,
});

/** A SyncStatsOut whose totals add up the streams'. */
export const syncStatsOf = (streams: Record<string, StreamStats>, over: Partial<SyncStats> = {}): SyncStats => {
  const records = Object.values(streams).reduce((n, s) => n + s.records, 0);
  const bytes = Object.values(streams).reduce((n, s) => n + s.bytes, 0);
  return { streams, records, bytes, seconds: 10, records_per_second: records / 10, checkpoints: 2, skipped_records: 0, ...over };
};

const configured = (stream: (typeof sourceStreams.streams)[number], over: Partial<ConnectionStream>): ConnectionStream => ({
  name: stream.name, namespace: null, table: stream.name, selected: true, sync_mode: "full_refresh",
  destination_mode: "overwrite", primary_key: [], cursor_field: [], selected_columns: null,
  supported_sync_modes: stream.supported_sync_modes, source_defined_cursor: stream.source_defined_cursor,
  source_defined_primary_key: stream.source_defined_primary_key, default_cursor_field: stream.default_cursor_field,
  columns: stream.columns, ...over,
});

/** A ConnectionOut reading `savedSource()` into schema `field_forms`. */
export const savedConnection = (over: Partial<Connection> = {}): Connection => ({
  id: 3, name: "Field forms to warehouse", source_id: 7, source_name: "Field forms", connector_slug: "commcare",
  destination_schema: "field_forms",
  streams: [
    configured(sourceStreams.streams[0], {
      sync_mode: "incremental", destination_mode: "append_dedup", primary_key: [["id"]], cursor_field: ["indexed_on"],
    }),
    configured(sourceStreams.streams[1], {}),
    configured(sourceStreams.streams[2], { selected: false }),
  ],
  created_at: "2026-01-02T00:00:00Z", updated_at: "2026-01-02T00:00:00Z", running: null, last_sync: null,
  schema_change: null, schema_change_needs_approval: false, ...over,
});

// ---- custom connectors ---------------------------------------------------------------------------

export const customPackage = "airbyte-source-kobo-ngo==0.3.1";

/** GET /api/connectors/custom/spec?package=<customPackage>: a small spec with a secret. */
export const customSpecOut = {
  slug: "custom", name: `Custom: ${customPackage}`, package: customPackage, version: "0.3.1", documentation_url: "",
  spec: {
    $schema: "http://json-schema.org/draft-07/schema#", title: "Kobo NGO", type: "object", required: ["server_url", "token"],
    properties: {
      server_url: { type: "string", title: "Server URL", order: 0 },
      token: { type: "string", title: "Token", airbyte_secret: true, order: 1 },
    },
  },
  secret_paths: [["token"]],
};

/** Another version of the custom connector, as a saved source may switch to: it also requires a project. */
export const customPackageNext = "airbyte-source-kobo-ngo==0.4.0";

export const customSpecOutNext = {
  ...customSpecOut, name: `Custom: ${customPackageNext}`, package: customPackageNext, version: "0.4.0",
  spec: {
    ...customSpecOut.spec, required: ["server_url", "token", "project"],
    properties: { ...customSpecOut.spec.properties, project: { type: "string", title: "Project", order: 2 } },
  },
};

export const customSource = (over: Record<string, unknown> = {}) =>
  savedSource({
    id: 8, name: "Kobo forms", connector_slug: "custom", connector_name: `Custom: ${customPackage}`, package: customPackage,
    version: "0.3.1", config: { server_url: "https://kf.example.org", token: "********" }, ...over,
  });

/** GET /api/config. */
export const appConfig = (customConnectors: boolean) => ({
  signup_enabled: true, signup_creates_orgs: true, custom_connectors: customConnectors,
  roles: ["member", "analyst", "admin", "super-admin"], permissions: {}, version: "0",
});
