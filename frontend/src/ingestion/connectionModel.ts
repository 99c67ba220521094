/** Connections without React: stream defaults and rules, names, field errors, sync stats. */
import type { ConnectionStream, ConnectionStreamIn, DestinationMode, SourceStream, StreamStatus, SyncMode, SyncRun, SyncStats } from "./api";

export const SYNC_MODE_LABELS: Record<SyncMode, string> = { full_refresh: "Full refresh", incremental: "Incremental" };
export const DESTINATION_MODE_LABELS: Record<DestinationMode, string> = {
  overwrite: "Overwrite",
  append: "Append",
  append_dedup: "Append + deduplicate",
};

/** Lower-case letters, digits and underscores, not starting with a digit, at most 63 characters (as the backend names tables). */
export function toIdentifier(name: string, fallback: string): string {
  let id = name.trim().toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") || fallback;
  if (/^[0-9]/.test(id)) id = `_${id}`;
  return id.slice(0, 63);
}

/** The destination schema suggested for a source: its name as an identifier. */
export const defaultSchemaName = (sourceName: string) => toIdentifier(sourceName, "raw");

/** The warehouse table a stream loads into (the backend's `table_name`). */
export const tableName = (stream: string) => toIdentifier(stream, "stream");

/** Destination modes that fit a sync mode: an incremental sync only appends. */
export function destinationModes(syncMode: SyncMode): DestinationMode[] {
  return syncMode === "incremental" ? ["append", "append_dedup"] : ["overwrite", "append_dedup"];
}

export const pathText = (paths: string[][]) => paths.map((p) => p.join(".")).join(", ");

/** What the backend picks for a stream: incremental (+ dedup with a key) where the source defines a cursor, else full refresh. */
export function streamDefault(stream: SourceStream, selected = true): ConnectionStream {
  const supported = stream.supported_sync_modes.length ? stream.supported_sync_modes : ["full_refresh"];
  const key = stream.source_defined_primary_key;
  const cursor = stream.default_cursor_field;
  const incremental = supported.includes("incremental") && cursor.length > 0;
  return {
    name: stream.name,
    namespace: stream.namespace,
    table: tableName(stream.name),
    selected,
    sync_mode: incremental ? "incremental" : "full_refresh",
    destination_mode: incremental ? (key.length ? "append_dedup" : "append") : "overwrite",
    primary_key: key,
    cursor_field: incremental ? cursor : [],
    selected_columns: null,
    supported_sync_modes: supported,
    source_defined_cursor: stream.source_defined_cursor,
    source_defined_primary_key: key,
    default_cursor_field: cursor,
    columns: stream.columns,
  };
}

/** Changes a stream's sync mode, keeping the destination mode and cursor valid for it. */
export function withSyncMode(stream: ConnectionStream, syncMode: SyncMode): ConnectionStream {
  const allowed = destinationModes(syncMode);
  const destination_mode = allowed.includes(stream.destination_mode)
    ? stream.destination_mode
    : syncMode === "incremental"
      ? stream.primary_key.length
        ? "append_dedup"
        : "append"
      : "overwrite";
  const cursor_field =
    syncMode === "incremental" ? (stream.cursor_field.length ? stream.cursor_field : stream.default_cursor_field) : [];
  return { ...stream, sync_mode: syncMode, destination_mode, cursor_field };
}

/** Columns that always load when only some are chosen: the primary key's and the cursor. */
export function requiredColumns(stream: ConnectionStream): string[] {
  const key = stream.primary_key.filter((p) => p.length === 1).map((p) => p[0]);
  const cursor = stream.sync_mode === "incremental" ? stream.cursor_field.slice(0, 1) : [];
  return [...new Set([...key, ...cursor])];
}

/** What the client can tell before sending; the backend checks the rest. */
export function streamProblem(stream: ConnectionStream): { field: keyof ConnectionStreamIn; message: string } | null {
  if (!stream.selected) return null;
  if (stream.sync_mode === "incremental" && !stream.cursor_field.length) {
    return { field: "cursor_field", message: "An incremental sync needs a cursor column." };
  }
  if (stream.destination_mode === "append_dedup" && !stream.primary_key.length) {
    return { field: "primary_key", message: "Deduplication needs a primary key: choose its column(s)." };
  }
  return null;
}

export function streamIn(stream: ConnectionStream): ConnectionStreamIn {
  return {
    name: stream.name,
    selected: stream.selected,
    sync_mode: stream.sync_mode,
    destination_mode: stream.destination_mode,
    primary_key: stream.primary_key,
    cursor_field: stream.sync_mode === "incremental" ? stream.cursor_field : [],
    selected_columns: stream.selected_columns,
  };
}

export interface StreamErrors {
  /** stream name -> field (sync_mode, destination_mode, primary_key, cursor_field, selected_columns, name) -> reason */
  byStream: Record<string, Record<string, string>>;
  /** A reason about the streams as a whole (`streams`: "Select at least one stream."). */
  general?: string;
}

/**
 * Sorts the API's stream field errors: `streams.<name>.<field>` (a stream name may contain dots) and
 * `streams.<index>.name` (an unknown stream, by its position in the body sent).
 */
export function streamErrors(fields: Record<string, string>, sent: string[]): StreamErrors {
  const out: StreamErrors = { byStream: {} };
  const known = new Set(sent);
  for (const [key, reason] of Object.entries(fields)) {
    if (key === "streams") {
      out.general = reason;
      continue;
    }
    if (!key.startsWith("streams.")) continue;
    const rest = key.slice("streams.".length);
    const dot = rest.lastIndexOf(".");
    if (dot < 0) continue;
    let name = rest.slice(0, dot);
    const field = rest.slice(dot + 1);
    if (!known.has(name) && /^\d+$/.test(name) && sent[Number(name)] !== undefined) name = sent[Number(name)];
    (out.byStream[name] ??= {})[field] = reason;
  }
  return out;
}

// ---- sync stats (SyncRunOut.progress while running, SyncRunOut.result at the end) ------------------

/** The run's stats: its result when it has one, else its live progress; null before anything was counted. */
export const syncStats = (run: SyncRun): SyncStats | null => run.result ?? run.progress;

/** Records a run loaded (its result, else its progress so far); null when it counted nothing. */
export const runRecords = (run: SyncRun): number | null => syncStats(run)?.records ?? null;

export const STREAM_STATUS_COLORS: Record<StreamStatus, string> = {
  pending: "gray",
  running: "blue",
  complete: "green",
  incomplete: "orange",
};
