import { useEffect, useState } from "react";
import { client, unwrap, type Schemas } from "../api/client";

export type LogLine = Schemas["LogLineOut"];

/**
 * Follows a platform-check run's logs: polls GET /api/system/checks/{id}/logs?offset=N, appends the new
 * lines and moves the offset to next_offset, until the run is done and a poll brings no new line.
 */
export function useLogStream(runId: string | null, intervalMs = 1000) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [finished, setFinished] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setLines([]);
    setFinished(false);
    setError(null);
    if (!runId) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let offset = 0;
    const poll = async () => {
      try {
        const page = await unwrap(
          client.GET("/api/system/checks/{run_id}/logs", { params: { path: { run_id: runId }, query: { offset } } }),
        );
        if (cancelled) return;
        setError(null);
        if (page.lines.length) setLines((prev) => [...prev, ...page.lines]);
        offset = page.next_offset;
        if (page.done && page.lines.length === 0) {
          setFinished(true);
          return;
        }
      } catch (e) {
        if (cancelled) return;
        setError(e);
      }
      timer = setTimeout(poll, intervalMs);
    };
    void poll();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [runId, intervalMs]);

  return { lines, finished, error };
}
