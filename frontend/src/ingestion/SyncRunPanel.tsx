import { Alert, Badge, Card, Group, Loader, Progress, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { IconAlertCircle, IconPlayerStop } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { formatBytes, formatDateTime, formatDuration, formatNumber } from "../app/format";
import { useOrgSlug } from "../app/session";
import { LogViewer } from "../system/LogViewer";
import { isTerminal } from "../system/runStatus";
import { useLogStream } from "../system/useLogStream";
import { connectionApi, ingestKeys, type StreamStats, type SyncRun, type SyncStats } from "./api";
import { RunStatusBadge, runStarted } from "./ConnectionParts";
import { STREAM_STATUS_COLORS, syncStats } from "./connectionModel";

/** A sync run, polled every second until it ends; when it ends, the connection and its history are refetched. */
export function useSyncRun(connectionId: number, runId: string, placeholder?: SyncRun) {
  const slug = useOrgSlug();
  const queryClient = useQueryClient();
  const run = useQuery({
    queryKey: ingestKeys.sync(slug, connectionId, runId),
    queryFn: () => connectionApi.run(connectionId, runId),
    placeholderData: placeholder?.id === runId ? placeholder : undefined,
    refetchInterval: (q) => (q.state.data && isTerminal(q.state.data.status) ? false : 1000),
  });
  const status = run.isPlaceholderData ? undefined : run.data?.status;
  const previous = useRef<string | undefined>(undefined);
  useEffect(() => {
    const was = previous.current;
    previous.current = status;
    if (status && was && !isTerminal(was) && isTerminal(status)) {
      void queryClient.invalidateQueries({ queryKey: ingestKeys.connection(slug, connectionId) });
      void queryClient.invalidateQueries({ queryKey: ingestKeys.connections(slug) });
    }
  }, [status, slug, connectionId, queryClient]);
  return run;
}

/** Records per second of each stream, from the change between two polls of a running sync. */
function useStreamRates(stats: SyncStats | null, running: boolean): Record<string, number> {
  const last = useRef<{ at: number; records: Record<string, number> } | null>(null);
  const [rates, setRates] = useState<Record<string, number>>({});
  useEffect(() => {
    if (!stats || !running) {
      last.current = null;
      return;
    }
    const now = Date.now();
    const records = Object.fromEntries(Object.entries(stats.streams).map(([n, s]) => [n, s.records]));
    const prev = last.current;
    if (prev && now > prev.at) {
      const seconds = (now - prev.at) / 1000;
      setRates(Object.fromEntries(Object.entries(records).map(([n, r]) => [n, Math.max(0, (r - (prev.records[n] ?? 0)) / seconds)])));
    }
    last.current = { at: now, records };
  }, [stats, running]);
  return running ? rates : {};
}

function StreamProgressBar({ stream, running }: { stream: StreamStats; running: boolean }) {
  if (stream.status === "complete") return <Progress value={100} color="green" aria-label="complete" />;
  if (stream.estimate != null && stream.estimate > 0) {
    const pct = Math.min(100, (stream.records / stream.estimate) * 100);
    return (
      <Group gap="xs" wrap="nowrap">
        <Progress value={pct} style={{ flex: 1 }} animated={running && stream.status === "running"} aria-label={`${Math.round(pct)}%`} />
        <Text size="xs" c="dimmed" w={36}>
          {Math.round(pct)}%
        </Text>
      </Group>
    );
  }
  if (running && stream.status === "running") return <Progress value={100} striped animated color="blue.3" aria-label="running" />;
  if (stream.status === "incomplete") return <Progress value={100} color="orange" aria-label="incomplete" />;
  return <Progress value={0} aria-label={stream.status} />;
}

function Stat({ label, value, testId }: { label: string; value: ReactNode; testId?: string }) {
  return (
    <div data-testid={testId}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fw={600} size="lg">
        {value}
      </Text>
    </div>
  );
}

/** Totals and one row per stream: status, records, bytes, rate, progress. */
export function SyncStatsView({ stats, running, duration }: { stats: SyncStats; running: boolean; duration: number | null }) {
  const rates = useStreamRates(stats, running);
  const streams = Object.entries(stats.streams);
  return (
    <Stack gap="sm">
      <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }} data-testid="sync-totals">
        <Stat label="Records" value={formatNumber(stats.records)} testId="sync-total-records" />
        <Stat label="Data" value={formatBytes(stats.bytes)} />
        <Stat label="Time" value={formatDuration(running ? stats.seconds : (duration ?? stats.seconds))} />
        <Stat label="Rate" value={`${formatNumber(Math.round(stats.records_per_second))} rec/s`} />
        <Stat label="Checkpoints" value={formatNumber(stats.checkpoints)} />
        {(!running || stats.skipped_records > 0) && <Stat label="Skipped" value={formatNumber(stats.skipped_records)} testId="sync-skipped" />}
      </SimpleGrid>
      {streams.length > 0 && (
        <Table.ScrollContainer minWidth={640}>
          <Table data-testid="sync-progress" verticalSpacing={6}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Stream</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th ta="right">Records</Table.Th>
                <Table.Th ta="right">Data</Table.Th>
                <Table.Th ta="right">Rate</Table.Th>
                <Table.Th w="30%">Progress</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {streams.map(([name, s]) => (
                <Table.Tr key={name} data-testid={`sync-stream-${name}`}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {name}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={STREAM_STATUS_COLORS[s.status]} data-testid={`sync-stream-status-${name}`}>
                      {s.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td ta="right">
                    {formatNumber(s.records)}
                    {s.estimate != null && (
                      <Text span size="xs" c="dimmed">
                        {" "}
                        / ~{formatNumber(s.estimate)}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td ta="right">{formatBytes(s.bytes)}</Table.Td>
                  <Table.Td ta="right">{rates[name] != null && s.status === "running" ? `${formatNumber(Math.round(rates[name]))} rec/s` : "—"}</Table.Td>
                  <Table.Td>
                    <StreamProgressBar stream={s} running={running} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}

/** One sync: status, who / when, live progress (or final stats), the failure, and the logs. */
export function SyncRunPanel({
  connectionId,
  runId,
  placeholder,
  title,
  actions,
}: {
  connectionId: number;
  runId: string;
  placeholder?: SyncRun;
  title: string;
  actions?: ReactNode;
}) {
  const run = useSyncRun(connectionId, runId, placeholder);
  const logs = useLogStream(runId, 1000, (rid, offset) => connectionApi.logs(connectionId, rid, offset));
  const r = run.data;
  const running = !!r && !isTerminal(r.status);
  const stats = useMemo(() => (r ? syncStats(r) : null), [r]);

  return (
    <Card withBorder data-testid="sync-run" data-run-id={runId}>
      <Group justify="space-between" mb="sm">
        <Group gap="sm">
          <Title order={4}>{title}</Title>
          {r && <RunStatusBadge status={r.status} testId="sync-status" />}
          {running && <Loader size="xs" />}
        </Group>
        {actions}
      </Group>
      <ApiErrorAlert error={run.error} title="Could not load the sync" />
      {r && (
        <Stack gap="md">
          <Group gap="xl">
            <Text size="sm">
              <Text span c="dimmed" inherit>
                Started:{" "}
              </Text>
              {formatDateTime(runStarted(r))}
            </Text>
            {!running && (
              <Text size="sm" data-testid="sync-duration">
                <Text span c="dimmed" inherit>
                  Duration:{" "}
                </Text>
                {formatDuration(r.duration_seconds)}
              </Text>
            )}
            <Text size="sm">
              <Text span c="dimmed" inherit>
                By:{" "}
              </Text>
              {r.created_by ?? "—"}
            </Text>
          </Group>
          {r.error && (
            <Alert
              color={r.status === "failed" ? "red" : "gray"}
              variant="light"
              icon={r.status === "failed" ? <IconAlertCircle size={18} /> : <IconPlayerStop size={18} />}
              title={r.status === "failed" ? "The sync failed" : r.status === "cancelled" ? "The sync was cancelled" : "Note"}
              data-testid="sync-error"
            >
              <Text size="sm" style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
                {r.error}
              </Text>
            </Alert>
          )}
          {stats ? (
            <SyncStatsView stats={stats} running={running} duration={r.duration_seconds} />
          ) : (
            <Text size="sm" c="dimmed" data-testid="sync-waiting">
              {r.status === "queued" ? "Waiting for a worker to start the sync…" : running ? "Starting the connector…" : "No records were counted."}
            </Text>
          )}
          <div>
            <Text size="sm" fw={500} mb={4}>
              Logs
            </Text>
            <LogViewer lines={logs.lines} testId="sync-logs" emptyText={logs.finished ? "No log lines." : "Waiting for logs…"} />
            <ApiErrorAlert error={logs.error} title="Could not load the logs" />
          </div>
        </Stack>
      )}
    </Card>
  );
}
