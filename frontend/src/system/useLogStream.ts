import { useEffect, useRef, useState } from "react";
import { client, unwrap, type Schemas } from "../api/client";

export type LogLine = Schemas["LogLineOut"];
export type LogPage = Schemas["LogPageOut"];
/** Fetches one page of a run's log from `offset`. */
export type LogPageFetcher = (runId: string, offset: number) => Promise<LogPage>;

/** The platform check's logs (the default source). */
export const checkLogPage: LogPageFetcher = (runId, offset) =>
  unwrap(client.GET("/api/system/checks/{run_id}/logs", { params: { path: { run_id: runId }, query: { offset } } }));

/**
 * Follows a run's logs: polls `fetchPage(runId, offset)` (by default GET /api/system/checks/{id}/logs?offset=N),
 * appends the new lines and moves the offset to next_offset, until the run is done and polls have brought no new
 * line for `graceMs` (Prefect ships a flow's last lines a couple of seconds after it ends). Once the run is done,
 * pages with lines come back to back (catching up on a finished run's log).
 */
export function useLogStream(
  runId: string | null,
  intervalMs = 1000,
  fetchPage: LogPageFetcher = checkLogPage,
  graceMs = 4000,
) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [finished, setFinished] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // The fetcher may be a new function each render; the run id is what restarts the stream.
  const fetcher = useRef(fetchPage);
  fetcher.current = fetchPage;

  useEffect(() => {
    setLines([]);
    setFinished(false);
    setError(null);
    if (!runId) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let offset = 0;
    let quietSince: number | null = null; // when a done run's log first came back empty
    const poll = async () => {
      let delay = intervalMs;
      try {
        const page = await fetcher.current(runId, offset);
        if (cancelled) return;
        setError(null);
        if (page.lines.length) setLines((prev) => [...prev, ...page.lines]);
        offset = page.next_offset;
        if (page.done && page.lines.length === 0) {
          quietSince ??= Date.now();
          if (Date.now() - quietSince >= graceMs) {
            setFinished(true);
            return;
          }
        } else if (page.done) {
          quietSince = null;
          delay = 0;
        }
      } catch (e) {
        if (cancelled) return;
        setError(e);
      }
      timer = setTimeout(poll, delay);
    };
    void poll();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [runId, intervalMs, graceMs]);

  return { lines, finished, error };
}
