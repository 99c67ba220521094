import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { json, makeMe, mockApi, renderPage } from "../test/utils";
import { ExplorePage } from "./ExplorePage";

vi.mock("../app/EChart", () => ({ EChart: ({ testId }: { testId?: string }) => <div data-testid={testId} /> }));

const tree = {
  refreshed_at: "2026-01-01T00:00:00Z",
  schemas: [
    {
      name: "main",
      tables: [
        {
          name: "people", kind: "table",
          columns: [
            { name: "id", type: "BIGINT", kind: "number" },
            { name: "name", type: "VARCHAR", kind: "text" },
            { name: "born", type: "DATE", kind: "date" },
            { name: "active", type: "BOOLEAN", kind: "boolean" },
          ],
        },
        { name: "people_v", kind: "view", columns: [{ name: "id", type: "BIGINT", kind: "number" }] },
      ],
    },
  ],
};
const columns = tree.schemas[0].tables[0].columns;
const preview = (url: URL) => {
  const offset = Number(url.searchParams.get("offset"));
  const limit = Number(url.searchParams.get("limit"));
  return {
    columns, total_rows: 120, limit, offset,
    rows: [[offset + 1, "A very long name that goes on and on and on well beyond sixty characters for sure", null, true]],
  };
};
const stat = (name: string, kind: string, extra: object) => ({
  name, type: "T", kind, count: 10, nulls: 2, distinct: 5, min: null, max: null, mean: null, median: null,
  top_values: null, histogram: null, true_count: null, false_count: null, ...extra,
});
const done = {
  status: "succeeded", progress: { done: 4, total: 4, current: null }, computed_at: "2026-01-01T00:00:00Z", error: null, row_count: 12,
  columns: [
    stat("id", "number", { min: 1, max: 12, mean: 6.5, median: 6.5, histogram: [{ bucket: "1-6", count: 6 }, { bucket: "7-12", count: 6 }] }),
    stat("name", "text", { top_values: [{ value: "Ada", count: 3 }] }),
    stat("born", "date", { min: "1990-01-01", max: "1999-12-01", histogram: [{ bucket: "1990-01", count: 10 }] }),
    stat("active", "boolean", { true_count: 7, false_count: 3 }),
  ],
};

describe("ExplorePage", () => {
  it("offers the warehouse set-up when none is configured", async () => {
    mockApi({ "GET /api/explore/tree": () => json({ detail: "No warehouse.", code: "no_warehouse", fields: {} }, 404) });
    renderPage(<ExplorePage />, { me: makeMe() });
    expect(await screen.findByTestId("explore-setup-warehouse")).toHaveAttribute("href", "/settings/warehouse");
  });

  it("tells an analyst without warehouse.edit to ask an admin", async () => {
    mockApi({ "GET /api/explore/tree": () => json({ detail: "No warehouse.", code: "no_warehouse", fields: {} }, 404) });
    renderPage(<ExplorePage />, { me: makeMe([{ role: "analyst", permissions: ["explore.view", "warehouse.view"] }]) });
    expect(await screen.findByTestId("explore-no-warehouse")).toHaveTextContent("an admin");
    expect(screen.queryByTestId("explore-setup-warehouse")).not.toBeInTheDocument();
  });

  it("previews a table: sort cycles asc → desc → none, pagination and page size send the right params", async () => {
    const { calls } = mockApi({
      "GET /api/explore/tree": () => tree,
      "GET /api/explore/tables/main/people/preview": (_req, url) => preview(url),
    });
    renderPage(<ExplorePage />, { me: makeMe() });
    const user = userEvent.setup();
    const treeEl = await screen.findByTestId("explore-tree");
    await user.type(within(treeEl).getByTestId("explore-search"), "born");
    expect(within(treeEl).queryByTestId("tree-table-main.people_v")).not.toBeInTheDocument();
    await user.click(within(treeEl).getByTestId("tree-table-main.people"));
    const table = await screen.findByTestId("preview-table");
    expect(within(table).getByText("null")).toBeInTheDocument();
    expect(within(table).getByText(/^A very long name.*…$/)).toBeInTheDocument();
    expect(screen.getByTestId("explore-row-count")).toHaveTextContent("120 rows");
    expect(screen.getByTestId("explore-download")).toHaveAttribute("href", "/api/explore/tables/main/people/download?org=org-1");

    const previews = () => calls.filter((c) => c.path.endsWith("/preview")).map((c) => Object.fromEntries(new URLSearchParams(c.search)));
    const last = () => previews().at(-1);
    expect(last()).toEqual({ limit: "50", offset: "0" });
    await user.click(screen.getByTestId("sort-name"));
    await waitFor(() => expect(last()).toEqual({ limit: "50", offset: "0", sort: "name", direction: "asc" }));
    await user.click(screen.getByTestId("sort-name"));
    await waitFor(() => expect(last()).toEqual({ limit: "50", offset: "0", sort: "name", direction: "desc" }));
    expect(screen.getByTestId("sort-name")).toHaveAttribute("data-direction", "desc");
    await user.click(screen.getByTestId("sort-name"));
    await waitFor(() => expect(screen.getByTestId("sort-name")).toHaveAttribute("data-direction", "none"));

    expect(screen.getByTestId("preview-prev")).toBeDisabled();
    await user.click(screen.getByTestId("preview-next"));
    await waitFor(() => expect(last()).toEqual({ limit: "50", offset: "50" }));
    expect(await screen.findByText("Rows 51–100 of 120")).toBeInTheDocument();
    await user.click(screen.getByTestId("preview-next"));
    await waitFor(() => expect(last()).toEqual({ limit: "50", offset: "100" }));
    await waitFor(() => expect(screen.getByTestId("preview-next")).toBeDisabled());
    await user.click(screen.getByTestId("preview-prev"));
    await waitFor(() => expect(last()).toEqual({ limit: "50", offset: "50" }));
    await user.selectOptions(screen.getByTestId("preview-page-size"), "100");
    await waitFor(() => expect(last()).toEqual({ limit: "100", offset: "0" }));
  });

  it("computes statistics: shows progress while polling, then one card with a chart per column", async () => {
    let polls = 0;
    const running = (done_: number) => ({ ...done, status: "running", columns: [], progress: { done: done_, total: 4, current: "name" } });
    const { calls } = mockApi({
      "GET /api/explore/tree": () => tree,
      "GET /api/explore/tables/main/people/preview": (_req, url) => preview(url),
      "GET /api/explore/tables/main/people/statistics": () =>
        polls === 0 ? json({ detail: "Not computed.", code: "no_statistics", fields: {} }, 404) : ++polls > 3 ? done : running(polls - 1),
      "POST /api/explore/tables/main/people/statistics": () => {
        polls = 1;
        return json({ ...done, status: "queued", columns: [], progress: { done: 0, total: 4, current: null } }, 202);
      },
    });
    renderPage(<ExplorePage />, { me: makeMe(), route: "/explore?schema=main&table=people" });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId("tab-statistics"));
    const compute = await screen.findByTestId("stats-compute");
    await waitFor(() => expect(compute).toBeEnabled());
    expect(compute).toHaveTextContent("Compute statistics");
    await user.click(compute);
    expect(await screen.findByTestId("stats-progress")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId("stats-progress")).toHaveTextContent(/name/), { timeout: 3000 });
    await waitFor(() => expect(screen.getByTestId("stats-column-id")).toBeInTheDocument(), { timeout: 5000 });
    expect(screen.queryByTestId("stats-progress")).not.toBeInTheDocument();
    for (const c of ["id", "name", "born", "active"]) {
      expect(within(screen.getByTestId(`stats-column-${c}`)).getByTestId(`stats-chart-${c}`)).toBeInTheDocument();
    }
    expect(screen.getByTestId("stats-column-id")).toHaveTextContent("6.5");
    expect(screen.getByTestId("stats-column-born")).toHaveTextContent("1990-01-01 → 1999-12-01");
    expect(screen.getByTestId("stats-compute")).toHaveTextContent("Recompute");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
  }, 15_000);
});
