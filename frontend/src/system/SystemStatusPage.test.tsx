import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { json, makeMe, mockApi, renderPage } from "../test/utils";
import { SystemStatusPage } from "./SystemStatusPage";

vi.mock("../app/EChart", () => ({ EChart: () => <div data-testid="latency-chart" /> }));

const run = (status: string) => ({
  id: "r1", kind: "platform_check", status, created_by: "ada@ngo.org", created_at: "2026-01-01T00:00:00Z",
  started_at: "2026-01-01T00:00:01Z", finished_at: null, duration_seconds: status === "succeeded" ? 3.2 : null,
  flow_run_id: "", result: null, error: "",
});
const status = {
  status: "ok",
  components: [
    { name: "web", status: "ok", latency_ms: 0 },
    { name: "database", status: "ok", latency_ms: 2.5, message: "sqlite" },
  ],
};

describe("SystemStatusPage", () => {
  it("lists components and hides the check button without system.check", async () => {
    mockApi({ "GET /api/system/status": () => status, "GET /api/system/checks": () => [] });
    renderPage(<SystemStatusPage />, { me: makeMe([{ role: "analyst", permissions: ["org.view", "system.view"] }]) });
    expect(await screen.findByTestId("component-database")).toHaveTextContent("2.5 ms");
    expect(screen.getByTestId("component-web")).toHaveTextContent("ok");
    expect(screen.queryByTestId("run-check")).not.toBeInTheDocument();
  });

  it("runs a check, follows its status and logs, and offers cancel while it runs", async () => {
    let polls = 0;
    const { calls } = mockApi({
      "GET /api/system/status": () => status,
      "GET /api/system/checks": () => [],
      "POST /api/system/checks": () => json(run("queued"), 201),
      "GET /api/system/checks/r1": () => run(++polls > 1 ? "succeeded" : "running"),
      "GET /api/system/checks/r1/logs": (_req, url) =>
        url.searchParams.get("offset") === "0"
          ? { lines: [{ timestamp: "2026-01-01T00:00:01Z", level: "INFO", message: "worker says hi", task: "ping" }], next_offset: 1, done: false }
          : { lines: [], next_offset: 1, done: polls > 1 },
      "POST /api/system/checks/r1/cancel": () => run("cancelling"),
    });
    renderPage(<SystemStatusPage />, { me: makeMe() });
    await userEvent.setup().click(await screen.findByTestId("run-check"));
    expect(await screen.findByTestId("check-status")).toHaveTextContent("running");
    expect(screen.getByTestId("cancel-check")).toBeInTheDocument();
    await waitFor(() => expect(within(screen.getByTestId("check-logs")).getByText(/worker says hi/)).toBeInTheDocument());
    await waitFor(() => expect(screen.getByTestId("check-status")).toHaveTextContent("succeeded"), { timeout: 4000 });
    expect(screen.queryByTestId("cancel-check")).not.toBeInTheDocument();
    expect(screen.getByTestId("check-duration")).toHaveTextContent("3.2 s");
    expect(calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual(["/api/system/checks"]);
  });
});
