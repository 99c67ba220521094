import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ALL_ADMIN, json, makeMe, mockApi, renderPage } from "../test/utils";
import type { Connection } from "./api";
import { ConnectionPage } from "./ConnectionPage";
import { EditConnectionPage, NewConnectionPage } from "./ConnectionFormPage";
import { defaultSchemaName, runRecords, streamErrors, syncStats } from "./connectionModel";
import { savedConnection, savedSource, sourceStreams, syncRun, syncStatsOf } from "./fixtures";
import { IngestPage } from "./IngestPage";
import { EditSourcePage } from "./SourceFormPage";

vi.mock("../app/EChart", () => ({ EChart: ({ testId }: { testId?: string }) => <div data-testid={testId} /> }));

const CONNECTION_PERMS = ["connection.view", "connection.edit", "connection.sync"];
const ADMIN = makeMe([{ permissions: [...ALL_ADMIN, ...CONNECTION_PERMS] }]);
const ANALYST = makeMe([
  { role: "analyst", permissions: ["org.view", "warehouse.view", "explore.view", "source.view", "connection.view"] },
]);

const line = (message: string) => ({ timestamp: "2026-01-03T10:00:02Z", level: "INFO", message, task: null });
const logsDone = () => ({ lines: [], next_offset: 0, done: true });

describe("connection helpers", () => {
  it("derives the schema from the source name and sorts stream field errors", () => {
    expect(defaultSchemaName("Field forms (2024)!")).toBe("field_forms_2024");
    expect(defaultSchemaName("2024 survey")).toBe("_2024_survey");
    expect(defaultSchemaName("***")).toBe("raw");
    const errors = streamErrors(
      { "streams.v1.visits.cursor_field": "Pick one.", "streams.1.name": "No such stream.", streams: "Select one.", name: "Taken." },
      ["forms", "gone", "v1.visits"],
    );
    expect(errors.general).toBe("Select one.");
    expect(errors.byStream).toEqual({ "v1.visits": { cursor_field: "Pick one." }, gone: { name: "No such stream." } });
  });

  it("takes a run's stats from its result, else its progress", () => {
    const progress = syncStatsOf({ forms: { status: "running", records: 5, bytes: 10 } });
    const result = syncStatsOf({ forms: { status: "complete", records: 9, bytes: 20, estimate: 9 } });
    expect(syncStats(syncRun({ progress, result }))).toBe(result);
    expect(syncStats(syncRun({ status: "running", progress }))).toBe(progress);
    expect(runRecords(syncRun({ status: "running", progress }))).toBe(5);
    expect(runRecords(syncRun())).toBeNull();
  });
});

describe("Connections list", () => {
  it("lists connections with source, schema, streams and last sync; editors get New / Edit / Sync", async () => {
    const done = syncRun({ result: syncStatsOf({ forms: { status: "complete", records: 1200, bytes: 4096, estimate: null } }) });
    mockApi({
      "GET /api/connectors": () => [],
      "GET /api/sources": () => [savedSource()],
      "GET /api/connections": () => [
        savedConnection({ last_sync: done }),
        savedConnection({ id: 4, name: "Cases", running: syncRun({ id: "run-2", status: "running", finished_at: null }) }),
      ],
    });
    renderPage(<IngestPage />, { me: ADMIN, route: "/ingest?tab=connections" });
    const row = await screen.findByTestId("connection-row-3");
    expect(row).toHaveTextContent("Field forms to warehouse");
    expect(row).toHaveTextContent("Field forms");
    expect(row).toHaveTextContent("field_forms");
    expect(screen.getByTestId("connection-streams-3")).toHaveTextContent("2 of 3");
    expect(screen.getByTestId("connection-last-sync-3")).toHaveTextContent("succeeded");
    expect(row).toHaveTextContent("1,200 records");
    expect(screen.getByTestId("connection-running-4")).toHaveTextContent("Syncing…");
    expect(screen.getByTestId("connection-sync-4")).toBeDisabled();
    expect(screen.getByTestId("connection-new")).toHaveAttribute("href", "/ingest/connections/new");
    expect(screen.getByTestId("connection-edit-3")).toHaveAttribute("href", "/ingest/connections/3/edit");
    expect(screen.getByTestId("tab-connections")).toHaveAttribute("aria-selected", "true");
  });

  it("analysts see the list without New, Edit or Sync", async () => {
    mockApi({
      "GET /api/connectors": () => [],
      "GET /api/sources": () => [savedSource()],
      "GET /api/connections": () => [savedConnection()],
    });
    renderPage(<IngestPage />, { me: ANALYST, route: "/ingest?tab=connections" });
    expect(await screen.findByTestId("connection-row-3")).toBeInTheDocument();
    expect(screen.getByTestId("connection-last-sync-3")).toHaveTextContent("never synced");
    expect(screen.queryByTestId("connection-new")).not.toBeInTheDocument();
    expect(screen.queryByTestId("connection-edit-3")).not.toBeInTheDocument();
    expect(screen.queryByTestId("connection-sync-3")).not.toBeInTheDocument();
  });

  it("without sources, the empty state leads to creating a source first", async () => {
    mockApi({ "GET /api/connectors": () => [], "GET /api/sources": () => [], "GET /api/connections": () => [] });
    renderPage(<IngestPage />, { me: ADMIN, route: "/ingest?tab=connections" });
    expect(await screen.findByTestId("connections-no-sources")).toBeInTheDocument();
    expect(screen.getByTestId("connection-new-source")).toHaveAttribute("href", "/ingest/sources/new");
    expect(screen.queryByTestId("connection-new")).not.toBeInTheDocument();
  });

  it("with sources, the empty state offers New connection", async () => {
    mockApi({ "GET /api/connectors": () => [], "GET /api/sources": () => [savedSource()], "GET /api/connections": () => [] });
    renderPage(<IngestPage />, { me: ADMIN, route: "/ingest?tab=connections" });
    const empty = await screen.findByTestId("connections-empty");
    await waitFor(() => expect(within(empty).getByTestId("connection-new")).toHaveAttribute("href", "/ingest/connections/new"));
  });
});

describe("New connection", () => {
  it("defaults from the source and its streams, validates locally, sends the streams and shows the API's field errors", { timeout: 20_000 }, async () => {
    const { calls } = mockApi({
      "GET /api/sources": () => [savedSource()],
      "GET /api/sources/7/streams": () => sourceStreams,
      "POST /api/connections": () =>
        json(
          {
            detail: "Some streams are not configured correctly.",
            code: "invalid",
            fields: {
              destination_schema: "'pg_x' is reserved by the warehouse.",
              "streams.visits.cursor_field": "'visited_at' is not a column of this stream.",
              "streams.forms.sync_mode": "This stream supports only: full_refresh.",
            },
          },
          400,
        ),
    });
    renderPage(<NewConnectionPage />, { me: ADMIN, route: "/ingest/connections/new?source=7", path: "/ingest/connections/new" });
    const user = userEvent.setup();
    const table = await screen.findByTestId("connection-streams");
    expect(screen.getByTestId("connection-source")).toHaveValue("7");
    expect(screen.getByTestId("connection-name")).toHaveValue("Field forms");
    expect(screen.getByTestId("connection-schema")).toHaveValue("field_forms");
    expect(calls.find((c) => c.path === "/api/sources/7/streams")!.search).toBe("?refresh=false");

    // forms: incremental + dedup on the source's key and cursor (both fixed).
    expect(screen.getByTestId("conn-stream-sync-mode-forms")).toHaveValue("incremental");
    expect(screen.getByTestId("conn-stream-destination-mode-forms")).toHaveValue("append_dedup");
    expect(screen.getByTestId("conn-stream-cursor-forms")).toHaveValue("indexed_on");
    expect(screen.getByTestId("conn-stream-cursor-forms")).toBeDisabled();
    expect(screen.getByTestId("conn-stream-primary-key-forms")).toBeDisabled();
    // cases: full refresh only.
    expect(screen.getByTestId("conn-stream-sync-mode-cases")).toBeDisabled();
    expect(within(screen.getByTestId("conn-stream-destination-mode-cases")).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "Overwrite",
      "Append + deduplicate",
    ]);
    expect(within(screen.getByTestId("conn-stream-cases")).getByText("not used by a full refresh")).toBeInTheDocument();

    // visits: switch to incremental; the destination follows; the cursor must be chosen.
    await user.selectOptions(screen.getByTestId("conn-stream-sync-mode-visits"), "incremental");
    expect(screen.getByTestId("conn-stream-destination-mode-visits")).toHaveValue("append");
    expect(within(screen.getByTestId("conn-stream-destination-mode-visits")).queryByText("Overwrite")).not.toBeInTheDocument();
    await user.click(screen.getByTestId("connection-save"));
    expect(await within(table).findByText("An incremental sync needs a cursor column.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await user.selectOptions(screen.getByTestId("conn-stream-cursor-visits"), "visited_at");
    await user.click(screen.getByTestId("conn-stream-selected-cases"));
    expect(screen.getByTestId("streams-selected-count")).toHaveTextContent("2 of 3 streams selected");
    // Only some columns of visits: the cursor column stays.
    await user.click(screen.getByTestId("conn-stream-columns-visits"));
    await user.click(screen.getByTestId("conn-stream-all-columns-visits"));
    await user.click(screen.getByLabelText("Column notes of visits"));
    expect(screen.getByLabelText("Column visited_at of visits")).toBeDisabled();
    await user.clear(screen.getByTestId("connection-schema"));
    await user.type(screen.getByTestId("connection-schema"), "pg_x");
    await user.click(screen.getByTestId("connection-save"));

    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      source_id: 7,
      name: "Field forms",
      destination_schema: "pg_x",
      streams: [
        { name: "forms", selected: true, sync_mode: "incremental", destination_mode: "append_dedup", primary_key: [["id"]], cursor_field: ["indexed_on"], selected_columns: null },
        { name: "cases", selected: false, sync_mode: "full_refresh", destination_mode: "overwrite", primary_key: [], cursor_field: [], selected_columns: null },
        { name: "visits", selected: true, sync_mode: "incremental", destination_mode: "append", primary_key: [], cursor_field: ["visited_at"], selected_columns: ["visit_id", "visited_at"] },
      ],
    });
    expect(await screen.findByTestId("api-error")).toHaveTextContent("Some streams are not configured correctly.");
    expect(screen.getByTestId("connection-schema")).toHaveAccessibleDescription(/reserved by the warehouse/);
    expect(screen.getByTestId("conn-stream-cursor-visits")).toHaveAccessibleDescription("'visited_at' is not a column of this stream.");
    expect(screen.getByTestId("conn-stream-sync-mode-forms")).toHaveAccessibleDescription("This stream supports only: full_refresh.");
  });

  it("creates and goes to the new connection's page", async () => {
    const { calls } = mockApi({
      "GET /api/sources": () => [savedSource()],
      "GET /api/sources/7/streams": () => sourceStreams,
      "POST /api/connections": async (req) => json(savedConnection({ name: ((await req.json()) as { name: string }).name }), 201),
    });
    renderPage(<NewConnectionPage />, { me: ADMIN, route: "/ingest/connections/new?source=7", path: "/ingest/connections/new" });
    const user = userEvent.setup();
    await screen.findByTestId("connection-streams");
    await user.clear(screen.getByTestId("connection-name"));
    await user.type(screen.getByTestId("connection-name"), "Forms");
    await user.click(screen.getByTestId("connection-save"));
    expect(await screen.findByTestId("elsewhere")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "POST")!.body).toMatchObject({ name: "Forms", source_id: 7, destination_schema: "field_forms" });
  });

  it("asks for a source first", async () => {
    mockApi({ "GET /api/sources": () => [savedSource(), savedSource({ id: 8, name: "Sheets" })] });
    renderPage(<NewConnectionPage />, { me: ADMIN, route: "/ingest/connections/new", path: "/ingest/connections/new" });
    const picker = await screen.findByTestId("connection-source");
    expect(picker).toHaveValue("");
    expect(screen.queryByTestId("connection-streams")).not.toBeInTheDocument();
  });
});

describe("Edit connection", () => {
  it("starts from the connection's own streams and sends a PUT", async () => {
    const { calls } = mockApi({
      "GET /api/connections/3": () => savedConnection(),
      "PUT /api/connections/3": async (req) => savedConnection((await req.json()) as Partial<Connection>),
    });
    renderPage(<EditConnectionPage />, { me: ADMIN, route: "/ingest/connections/3/edit", path: "/ingest/connections/:id/edit" });
    const user = userEvent.setup();
    await screen.findByTestId("connection-streams");
    expect(screen.getByTestId("conn-stream-selected-visits")).not.toBeChecked();
    expect(screen.queryByTestId("connection-source")).not.toBeInTheDocument();
    await user.click(screen.getByTestId("conn-stream-selected-visits"));
    // Deduplication needs a key: visits has none from the source, so one is chosen.
    await user.selectOptions(screen.getByTestId("conn-stream-destination-mode-visits"), "append_dedup");
    await user.click(screen.getByTestId("connection-save"));
    expect(await screen.findByText("Deduplication needs a primary key: choose its column(s).")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "PUT")).toBe(false);
    await user.click(screen.getByTestId("conn-stream-primary-key-visits"));
    // The dropdown is still in its (jsdom-never-ending) transition: its options count as hidden.
    await user.click(await screen.findByRole("option", { name: "visit_id", hidden: true }));
    await user.click(screen.getByTestId("connection-save"));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    const body = calls.find((c) => c.method === "PUT")!.body as { name: string; streams: { name: string; selected: boolean }[] };
    expect(body).toMatchObject({ name: "Field forms to warehouse", destination_schema: "field_forms" });
    expect(body.streams.map((s) => [s.name, s.selected])).toEqual([["forms", true], ["cases", true], ["visits", true]]);
    expect(body.streams[2]).toMatchObject({ sync_mode: "full_refresh", destination_mode: "append_dedup", primary_key: [["visit_id"]], cursor_field: [] });
  });
});

describe("Connection page", () => {
  it("syncs now and shows the live progress per stream, with Cancel while it runs", { timeout: 20_000 }, async () => {
    const running = syncRun({
      id: "run-2", status: "running", finished_at: null, duration_seconds: null,
      progress: syncStatsOf({
        forms: { status: "running", records: 40, bytes: 2048, estimate: 100 },
        cases: { status: "complete", records: 12, bytes: 512, estimate: null },
        visits: { status: "pending", records: 0, bytes: 0, estimate: null },
      }),
    });
    let started = false;
    const { calls } = mockApi({
      "GET /api/connections/3": () => savedConnection({ running: started ? running : null }),
      "POST /api/connections/3/sync": () => {
        started = true;
        return json(running, 201);
      },
      "GET /api/connections/3/syncs": () => (started ? [running] : []),
      "GET /api/connections/3/syncs/run-2": () => running,
      "GET /api/connections/3/syncs/run-2/logs": (_req, url) =>
        url.searchParams.get("offset") === "0" ? { lines: [line("Syncing 3 stream(s)")], next_offset: 1, done: false } : { lines: [], next_offset: 1, done: false },
      "POST /api/connections/3/syncs/run-2/cancel": () => ({ ...running, status: "cancelling" }),
    });
    renderPage(<ConnectionPage />, { me: ADMIN, route: "/ingest/connections/3", path: "/ingest/connections/:id" });
    const user = userEvent.setup();
    expect(await screen.findByTestId("sync-none")).toBeInTheDocument();
    expect(screen.queryByTestId("connection-cancel")).not.toBeInTheDocument();
    await user.click(screen.getByTestId("connection-sync"));

    const forms = await screen.findByTestId("sync-stream-forms");
    expect(screen.getByTestId("sync-stream-status-forms")).toHaveTextContent("running");
    expect(forms).toHaveTextContent("40");
    expect(forms).toHaveTextContent("~100");
    expect(forms).toHaveTextContent("2.0 KB");
    expect(within(forms).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "40");
    expect(screen.getByTestId("sync-stream-status-cases")).toHaveTextContent("complete");
    expect(screen.getByTestId("sync-stream-status-visits")).toHaveTextContent("pending");
    expect(screen.getByTestId("sync-total-records")).toHaveTextContent("52");
    expect(screen.getByTestId("sync-status")).toHaveTextContent("running");
    await waitFor(() => expect(screen.getByTestId("connection-sync")).toHaveTextContent("Syncing…"));
    expect(screen.getByTestId("connection-sync")).toBeDisabled();
    await waitFor(() => expect(within(screen.getByTestId("sync-logs")).getByText(/Syncing 3 stream/)).toBeInTheDocument());

    await user.click(screen.getByTestId("connection-cancel"));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/api/connections/3/syncs/run-2/cancel")).toBe(true));
  });

  it("a 409 sync_running shows the message and opens the running sync", async () => {
    const other = syncRun({ id: "run-9", status: "running", finished_at: null, progress: syncStatsOf({ forms: { status: "running", records: 5, bytes: 10, estimate: null } }) });
    mockApi({
      "GET /api/connections/3": () => savedConnection(),
      "GET /api/connections/3/syncs": () => [],
      "POST /api/connections/3/sync": () =>
        json({ detail: "A sync of this connection is already running.", code: "sync_running", fields: {}, related: { run_id: "run-9" } }, 409),
      "GET /api/connections/3/syncs/run-9": () => other,
      "GET /api/connections/3/syncs/run-9/logs": logsDone,
    });
    renderPage(<ConnectionPage />, { me: ADMIN, route: "/ingest/connections/3", path: "/ingest/connections/:id" });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId("connection-sync"));
    expect(await screen.findByTestId("sync-running-alert")).toHaveTextContent("A sync of this connection is already running.");
    await user.click(screen.getByTestId("sync-running-view"));
    expect(await screen.findByTestId("sync-stream-forms")).toHaveTextContent("5");
    expect(screen.getByTestId("sync-run")).toHaveAttribute("data-run-id", "run-9");
    expect(screen.queryByTestId("sync-running-alert")).not.toBeInTheDocument();
    // Without an estimate the bar is indeterminate.
    expect(within(screen.getByTestId("sync-stream-forms")).getByRole("progressbar")).toHaveAttribute("aria-label", "running");
  });

  it("shows the last sync's failure plainly, the history chart, and another run's stats when its row is clicked", async () => {
    const failed = syncRun({ id: "run-3", status: "failed", error: "The connector failed: 401 Unauthorized.", result: null, progress: null });
    const ok = syncRun({
      id: "run-1", created_at: "2026-01-02T10:00:00Z", started_at: "2026-01-02T10:00:00Z",
      result: syncStatsOf({ forms: { status: "complete", records: 900, bytes: 9000, estimate: null } }, { skipped_records: 2 }),
    });
    mockApi({
      "GET /api/connections/3": () => savedConnection({ last_sync: failed }),
      "GET /api/connections/3/syncs": () => [failed, ok],
      "GET /api/connections/3/syncs/run-3": () => failed,
      "GET /api/connections/3/syncs/run-3/logs": logsDone,
      "GET /api/connections/3/syncs/run-1": () => ok,
      "GET /api/connections/3/syncs/run-1/logs": (_req, url) =>
        url.searchParams.get("offset") === "0" ? { lines: [line("Sync finished: 900 records")], next_offset: 1, done: true } : { lines: [], next_offset: 1, done: true },
    });
    renderPage(<ConnectionPage />, { me: ANALYST, route: "/ingest/connections/3", path: "/ingest/connections/:id" });
    expect(await screen.findByTestId("sync-error")).toHaveTextContent("The connector failed: 401 Unauthorized.");
    expect(screen.getByTestId("sync-status")).toHaveTextContent("failed");
    expect(await screen.findByTestId("syncs-chart")).toBeInTheDocument();
    const table = screen.getByTestId("syncs-table");
    expect(within(table).getByTestId("sync-row-run-1")).toHaveTextContent("900");
    await userEvent.setup().click(within(table).getByTestId("sync-row-run-1"));
    await waitFor(() => expect(screen.getByTestId("sync-run")).toHaveAttribute("data-run-id", "run-1"));
    expect(await screen.findByTestId("sync-stream-forms")).toHaveTextContent("900");
    expect(screen.getByTestId("sync-skipped")).toHaveTextContent("2");
    expect(screen.queryByTestId("sync-error")).not.toBeInTheDocument();
    await waitFor(() => expect(within(screen.getByTestId("sync-logs")).getByText(/Sync finished/)).toBeInTheDocument());
  });

  it("hides Sync, Cancel, Edit and Manage from roles without the permissions", async () => {
    const running = syncRun({ id: "run-2", status: "running", finished_at: null });
    mockApi({
      "GET /api/connections/3": () => savedConnection({ running }),
      "GET /api/connections/3/syncs": () => [running],
      "GET /api/connections/3/syncs/run-2": () => running,
      "GET /api/connections/3/syncs/run-2/logs": logsDone,
    });
    renderPage(<ConnectionPage />, { me: ANALYST, route: "/ingest/connections/3", path: "/ingest/connections/:id" });
    expect(await screen.findByTestId("sync-run")).toBeInTheDocument();
    expect(screen.queryByTestId("connection-sync")).not.toBeInTheDocument();
    expect(screen.queryByTestId("connection-cancel")).not.toBeInTheDocument();
    expect(screen.queryByTestId("connection-edit")).not.toBeInTheDocument();
    expect(screen.queryByTestId("tab-manage")).not.toBeInTheDocument();
    await userEvent.setup().click(screen.getByTestId("tab-streams"));
    expect(await screen.findByTestId("connection-streams-summary")).toHaveTextContent("field_forms.forms");
    expect(screen.queryByTestId("schema-refresh")).not.toBeInTheDocument();
  });

  it("a breaking schema change pauses syncs; only admins can approve it", async () => {
    const change = {
      streams_added: ["households"], streams_removed: [], breaking: ["Stream 'forms': cursor column 'indexed_on' is gone."],
      streams_changed: { forms: { columns_added: [], columns_removed: ["indexed_on"], types_changed: [] } },
      detected_at: "2026-01-04T00:00:00Z",
    };
    let approved = false;
    const { calls } = mockApi({
      "GET /api/connections/3": () => savedConnection(approved ? { schema_change: change } : { schema_change: change, schema_change_needs_approval: true }),
      "GET /api/connections/3/syncs": () => [],
      "POST /api/connections/3/schema/approve": () => {
        approved = true;
        return savedConnection({ schema_change: change });
      },
    });
    const admin = renderPage(<ConnectionPage />, { me: ADMIN, route: "/ingest/connections/3", path: "/ingest/connections/:id" });
    const banner = await screen.findByTestId("schema-change");
    expect(banner).toHaveAttribute("data-breaking", "true");
    expect(within(banner).getByTestId("schema-change-breaking")).toHaveTextContent("cursor column 'indexed_on' is gone");
    expect(banner).toHaveTextContent("households");
    expect(screen.getByTestId("connection-sync")).toBeDisabled();
    await userEvent.setup().click(within(banner).getByTestId("schema-approve"));
    await waitFor(() => expect(calls.some((c) => c.path === "/api/connections/3/schema/approve")).toBe(true));
    await waitFor(() => expect(screen.getByTestId("schema-change")).toHaveAttribute("data-breaking", "false"));
    expect(screen.getByTestId("connection-sync")).toBeEnabled();
    admin.unmount();

    approved = false;
    renderPage(<ConnectionPage />, { me: ANALYST, route: "/ingest/connections/3", path: "/ingest/connections/:id" });
    const seen = await screen.findByTestId("schema-change");
    expect(seen).toHaveAttribute("data-breaking", "true");
    expect(within(seen).getByTestId("schema-change-breaking")).toBeInTheDocument();
    expect(within(seen).queryByTestId("schema-approve")).not.toBeInTheDocument();
    expect(seen).toHaveTextContent("Ask an admin");
  });

  it("checks for schema changes, clears chosen streams after confirmation, shows the saved state, deletes", { timeout: 20_000 }, async () => {
    const { calls } = mockApi({
      "GET /api/connections/3": () => savedConnection(),
      "POST /api/connections/3/schema/refresh": () => savedConnection(),
      "POST /api/connections/3/clear": () => savedConnection(),
      "GET /api/connections/3/state": () => ({ kind: "stream", streams: { forms: { indexed_on: "2026-01-03" } }, raw: { kind: "stream", streams: [] } }),
      "DELETE /api/connections/3": () => json(null, 204),
    });
    renderPage(<ConnectionPage />, { me: ADMIN, route: "/ingest/connections/3?tab=streams", path: "/ingest/connections/:id" });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId("schema-refresh"));
    expect(await screen.findByText("No schema changes found.")).toBeInTheDocument();

    await user.click(screen.getByTestId("tab-manage"));
    await user.click(await screen.findByTestId("connection-clear"));
    const modal = await screen.findByTestId("clear-modal");
    await user.click(within(modal).getByLabelText("Chosen streams"));
    expect(within(modal).getByTestId("clear-submit")).toBeDisabled();
    await user.click(within(modal).getByLabelText("cases"));
    expect(modal).toHaveTextContent("field_forms.cases");
    await user.click(within(modal).getByTestId("clear-submit"));
    await waitFor(() => expect(calls.some((c) => c.path === "/api/connections/3/clear")).toBe(true));
    expect(calls.find((c) => c.path === "/api/connections/3/clear")!.body).toEqual({ streams: ["cases"] });

    expect(calls.some((c) => c.path === "/api/connections/3/state")).toBe(false);
    await user.click(screen.getByTestId("state-toggle"));
    expect(await screen.findByTestId("state-json")).toHaveTextContent('"kind": "stream"');
    expect(screen.getByTestId("state-streams")).toHaveTextContent("2026-01-03");

    await user.click(screen.getByTestId("connection-delete"));
    await user.click(await screen.findByTestId("connection-delete-submit"));
    expect(await screen.findByTestId("elsewhere")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/connections/3")).toBe(true);
  });
});

describe("Source page and connections", () => {
  it("lists the source's connections, and the delete confirmation links to them instead of deleting", async () => {
    const { calls } = mockApi({
      "GET /api/sources/7": () => savedSource({ connections: [{ id: 3, name: "Field forms to warehouse" }] }),
      "GET /api/connectors/commcare/spec": () => new Promise(() => {}),
    });
    renderPage(<EditSourcePage />, { me: ADMIN, route: "/ingest/sources/7", path: "/ingest/sources/:id" });
    const card = await screen.findByTestId("source-connections");
    expect(within(card).getByTestId("source-connection-3")).toHaveAttribute("href", "/ingest/connections/3");
    expect(within(card).getByTestId("source-new-connection")).toHaveAttribute("href", "/ingest/connections/new?source=7");
    await userEvent.setup().click(screen.getByTestId("source-delete"));
    const dependents = await screen.findByTestId("source-dependents");
    expect(within(dependents).getByTestId("source-dependent-3")).toHaveAttribute("href", "/ingest/connections/3");
    expect(screen.getByTestId("source-delete-submit")).toBeDisabled();
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
  });
});
