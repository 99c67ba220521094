import { render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockApi } from "../test/utils";
import { LogViewer } from "./LogViewer";
import { useLogStream } from "./useLogStream";
import { MantineProvider } from "@mantine/core";

function Follow({ runId, graceMs = 0 }: { runId: string; graceMs?: number }) {
  const { lines, finished } = useLogStream(runId, 5, undefined, graceMs);
  return (
    <MantineProvider>
      <LogViewer lines={lines} />
      {finished && <span data-testid="finished" />}
    </MantineProvider>
  );
}

const line = (message: string) => ({ timestamp: "2026-01-01T00:00:00Z", level: "INFO", message, task: null });

describe("log streaming", () => {
  it("keeps listening a little after the run ends: Prefect ships the last lines late", async () => {
    let emptyPolls = 0;
    mockApi({
      "GET /api/system/checks/run-3/logs": (_req, url) => {
        if (url.searchParams.get("offset") === "0") return { lines: [line("started")], next_offset: 1, done: true };
        if (url.searchParams.get("offset") === "1" && ++emptyPolls < 4) return { lines: [], next_offset: 1, done: true };
        if (url.searchParams.get("offset") === "1") return { lines: [line("database: ok")], next_offset: 2, done: true };
        return { lines: [], next_offset: 2, done: true };
      },
    });
    render(<Follow runId="run-3" graceMs={200} />);
    await screen.findByTestId("finished");
    expect(screen.getByTestId("check-logs")).toHaveTextContent("database: ok");
  });

  it("appends new lines from next_offset until done and no new lines", async () => {
    const pages: Record<string, unknown> = {
      "0": { lines: [line("queued"), line("started")], next_offset: 2, done: false },
      "2": { lines: [line("step ok")], next_offset: 3, done: true },
      "3": { lines: [], next_offset: 3, done: true },
    };
    const { calls } = mockApi({
      "GET /api/system/checks/run-1/logs": (_req, url) => pages[url.searchParams.get("offset") ?? "0"],
    });
    render(<Follow runId="run-1" />);
    await screen.findByTestId("finished");
    const viewer = screen.getByTestId("check-logs");
    expect(viewer.children).toHaveLength(3);
    expect(viewer).toHaveTextContent("queued");
    expect(viewer.children[2]).toHaveTextContent("step ok");
    expect(calls.map((c) => new URLSearchParams(c.search).get("offset"))).toEqual(["0", "2", "3"]);
    // It stopped polling.
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toHaveLength(3);
  });

  it("keeps polling at the same offset while the run is going and nothing new came", async () => {
    let n = 0;
    mockApi({
      "GET /api/system/checks/run-2/logs": (_req, url) => {
        if (url.searchParams.get("offset") === "1") return { lines: [], next_offset: 1, done: true };
        n += 1;
        return n < 3 ? { lines: [], next_offset: 0, done: false } : { lines: [line("late")], next_offset: 1, done: true };
      },
    });
    render(<Follow runId="run-2" />);
    await waitFor(() => expect(screen.getByTestId("check-logs").children).toHaveLength(1));
    await screen.findByTestId("finished");
  });
});
