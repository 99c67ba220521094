import { Badge, Button, Card, Grid, Group, Loader, Stack, Table, Text, Title, UnstyledButton } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconPlayerPlay, IconPlayerStop } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { client, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { EChart, type EChartOption } from "../app/EChart";
import { formatDateTime, formatDuration } from "../app/format";
import { useCan, useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { LogViewer } from "./LogViewer";
import { isTerminal, statusColor } from "./runStatus";
import { useLogStream } from "./useLogStream";

type Run = Schemas["RunOut"];

function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <Badge color={statusColor(status)} variant="light" data-testid={testId} style={{ overflow: "visible" }} miw="fit-content">
      {status}
    </Badge>
  );
}

function Components() {
  const slug = useOrgSlug();
  const status = useQuery({
    queryKey: ["org", slug, "system", "status"],
    queryFn: () => unwrap(client.GET("/api/system/status")),
    refetchInterval: 10_000,
  });
  const option = useMemo<EChartOption>(() => {
    const comps = status.data?.components ?? [];
    return {
      grid: { left: 100, right: 24, top: 8, bottom: 24 },
      tooltip: { trigger: "axis", valueFormatter: (v: unknown) => `${Number(v).toFixed(1)} ms` },
      xAxis: { type: "value", name: "ms" },
      yAxis: { type: "category", data: comps.map((c) => c.name) },
      series: [
        {
          type: "bar",
          data: comps.map((c) => ({
            value: c.latency_ms ?? 0,
            itemStyle: { color: c.status === "ok" ? "#40c057" : "#fa5252" },
          })),
        },
      ],
    };
  }, [status.data]);

  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Title order={4}>Components</Title>
        <Group gap="xs">
          {status.isFetching && <Loader size="xs" />}
          {status.data && <StatusBadge status={status.data.status} testId="overall-status" />}
        </Group>
      </Group>
      <ApiErrorAlert error={status.error} />
      {status.data && (
        <Grid>
          <Grid.Col span={{ base: 12, md: 6 }}>
            <Table data-testid="components-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Component</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Latency</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {status.data.components.map((c) => (
                  <Table.Tr key={c.name} data-testid={`component-${c.name}`}>
                    <Table.Td>
                      {c.name}
                      {c.message && (
                        <Text size="xs" c="dimmed">
                          {c.message}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={c.status} />
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>
                      {c.latency_ms == null ? "—" : `${c.latency_ms.toFixed(1)} ms`}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 6 }}>
            <EChart option={option} height={Math.max(160, status.data.components.length * 36 + 40)} testId="latency-chart" />
          </Grid.Col>
        </Grid>
      )}
      <Text size="xs" c="dimmed" mt="xs">
        Refreshes every 10 seconds.
      </Text>
    </Card>
  );
}

function RunPanel({ runId }: { runId: string }) {
  const slug = useOrgSlug();
  const queryClient = useQueryClient();
  const canCheck = useCan("system.check");
  const run = useQuery({
    queryKey: ["org", slug, "system", "check", runId],
    queryFn: () => unwrap(client.GET("/api/system/checks/{run_id}", { params: { path: { run_id: runId } } })),
    refetchInterval: (q) => (q.state.data && isTerminal(q.state.data.status) ? false : 1000),
  });
  const logs = useLogStream(runId);
  const done = !!run.data && isTerminal(run.data.status);
  useEffect(() => {
    if (done) void queryClient.invalidateQueries({ queryKey: ["org", slug, "system", "checks"] });
  }, [done, slug, queryClient]);
  const cancel = useApiMutation(
    () => unwrap(client.POST("/api/system/checks/{run_id}/cancel", { params: { path: { run_id: runId } } })),
    { invalidate: [["org", slug, "system", "check", runId]] },
  );
  const r = run.data;
  return (
    <Card withBorder data-testid="check-run">
      <Group justify="space-between" mb="sm">
        <Group gap="sm">
          <Title order={4}>Platform check</Title>
          {r && <StatusBadge status={r.status} testId="check-status" />}
          {r && !done && <Loader size="xs" />}
        </Group>
        {r && !done && canCheck && (
          <Button
            size="xs"
            color="red"
            variant="light"
            leftSection={<IconPlayerStop size={14} />}
            loading={cancel.isPending}
            disabled={r.status === "cancelling"}
            onClick={() => cancel.mutate(undefined, { onError: (e) => notifications.show({ color: "red", message: errorMessage(e) }) })}
            data-testid="cancel-check"
          >
            Cancel
          </Button>
        )}
      </Group>
      <ApiErrorAlert error={run.error} />
      {r && (
        <Group gap="xl" mb="sm">
          <Text size="sm">
            <Text span c="dimmed" inherit>
              Started:{" "}
            </Text>
            {formatDateTime(r.started_at ?? r.created_at)}
          </Text>
          <Text size="sm" data-testid="check-duration">
            <Text span c="dimmed" inherit>
              Duration:{" "}
            </Text>
            {formatDuration(r.duration_seconds)}
          </Text>
          {r.created_by && (
            <Text size="sm">
              <Text span c="dimmed" inherit>
                By:{" "}
              </Text>
              {r.created_by}
            </Text>
          )}
        </Group>
      )}
      {r?.error && <ApiErrorAlert error={new Error(r.error)} title="The check failed" />}
      <LogViewer lines={logs.lines} emptyText={logs.finished ? "No log lines." : "Waiting for logs…"} />
      <ApiErrorAlert error={logs.error} title="Could not load the logs" />
    </Card>
  );
}

function RecentChecks({ selected, onSelect }: { selected: string | null; onSelect: (id: string) => void }) {
  const slug = useOrgSlug();
  const checks = useQuery({
    queryKey: ["org", slug, "system", "checks"],
    queryFn: () => unwrap(client.GET("/api/system/checks")),
    refetchInterval: (q) => (q.state.data?.some((r) => !isTerminal(r.status)) ? 3000 : false),
  });
  return (
    <Card withBorder>
      <Title order={4} mb="sm">
        Recent checks
      </Title>
      <ApiErrorAlert error={checks.error} />
      {checks.data?.length === 0 && (
        <Text size="sm" c="dimmed">
          No platform check has run yet.
        </Text>
      )}
      {!!checks.data?.length && (
        <Table highlightOnHover data-testid="checks-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Started</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Duration</Table.Th>
              <Table.Th>By</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {checks.data.slice(0, 20).map((r: Run) => (
              <Table.Tr key={r.id} bg={r.id === selected ? "blue.0" : undefined}>
                <Table.Td>
                  <UnstyledButton onClick={() => onSelect(r.id)} c="blue.7" fz="sm">
                    {formatDateTime(r.created_at)}
                  </UnstyledButton>
                </Table.Td>
                <Table.Td>
                  <StatusBadge status={r.status} />
                </Table.Td>
                <Table.Td>{formatDuration(r.duration_seconds)}</Table.Td>
                <Table.Td>{r.created_by ?? "—"}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}

export function SystemStatusPage() {
  const slug = useOrgSlug();
  const canCheck = useCan("system.check");
  const [runId, setRunId] = useState<string | null>(null);
  const start = useApiMutation(() => unwrap(client.POST("/api/system/checks")), {
    invalidate: [["org", slug, "system", "checks"]],
    onSuccess: (run) => setRunId(run.id),
  });
  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Title order={2}>System status</Title>
        {canCheck && (
          <Button leftSection={<IconPlayerPlay size={16} />} loading={start.isPending} onClick={() => start.mutate()} data-testid="run-check">
            Run platform check
          </Button>
        )}
      </Group>
      <Text c="dimmed" size="sm">
        The platform check sends a job through the whole stack (web → orchestrator → Prefect → worker) and streams
        its logs back here.
      </Text>
      <ApiErrorAlert error={start.error} title="Could not start the check" />
      <Components />
      {runId && <RunPanel key={runId} runId={runId} />}
      <RecentChecks selected={runId} onSelect={setRunId} />
    </Stack>
  );
}
