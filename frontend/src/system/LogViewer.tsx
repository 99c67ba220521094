import { Box, ScrollArea, Text } from "@mantine/core";
import { useEffect, useRef } from "react";
import type { LogLine } from "./useLogStream";

const LEVEL_COLOR: Record<string, string> = {
  ERROR: "red.4",
  CRITICAL: "red.4",
  WARNING: "yellow.4",
  DEBUG: "gray.5",
};

function time(ts: string): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleTimeString();
}

/** A terminal-like log panel; one child element per line; follows the tail while new lines come. */
export function LogViewer({
  lines,
  height = 320,
  emptyText = "Waiting for logs…",
  testId = "check-logs",
}: {
  lines: LogLine[];
  height?: number;
  emptyText?: string;
  testId?: string;
}) {
  const viewport = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = viewport.current;
    if (el && typeof el.scrollTo === "function") el.scrollTo({ top: el.scrollHeight });
  }, [lines.length]);
  return (
    <ScrollArea h={height} viewportRef={viewport} bg="dark.8" style={{ borderRadius: 6 }}>
      <Box p="sm" ff="monospace" fz="xs" data-testid={testId}>
        {lines.map((l, i) => (
          <div key={i} data-testid="log-line" style={{ whiteSpace: "pre-wrap", color: "var(--mantine-color-gray-2)" }}>
            <Text span c="dimmed" inherit>
              {time(l.timestamp)}{" "}
            </Text>
            <Text span c={LEVEL_COLOR[l.level.toUpperCase()] ?? "blue.3"} inherit>
              {l.level.padEnd(7)}
            </Text>
            {l.task ? (
              <Text span c="grape.3" inherit>
                [{l.task}]{" "}
              </Text>
            ) : null}
            {l.message}
          </div>
        ))}
      </Box>
      {lines.length === 0 && (
        <Text c="gray.5" size="xs" p="sm" pt={0} ff="monospace">
          {emptyText}
        </Text>
      )}
    </ScrollArea>
  );
}
