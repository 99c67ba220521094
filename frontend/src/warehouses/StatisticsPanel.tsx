import { Button, Card, Group, Loader, Progress, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { IconChartHistogram, IconRefresh } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { EChart, type EChartOption } from "../app/EChart";
import { formatDateTime } from "../app/format";
import { useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { exploreApi, type ColumnStats, type Statistics } from "./api";
import { TypeBadge } from "./SchemaTree";

const active = (s: Statistics | null | undefined) => s?.status === "queued" || s?.status === "running";

function fmt(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString() : v.toLocaleString(undefined, { maximumFractionDigits: 4 });
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function Stat({ label, value }: { label: string; value: unknown }) {
  return (
    <Table.Tr>
      <Table.Td c="dimmed" py={2}>
        {label}
      </Table.Td>
      <Table.Td py={2} ta="right" style={{ wordBreak: "break-all" }}>
        {fmt(value)}
      </Table.Td>
    </Table.Tr>
  );
}

/** The ECharts option for a column's distribution, or null when it has nothing to chart. */
export function columnChart(c: ColumnStats): EChartOption | null {
  const tooltip = { trigger: "axis", axisPointer: { type: "shadow" } };
  if (c.kind === "boolean" && (c.true_count != null || c.false_count != null)) {
    return {
      tooltip: { trigger: "item" },
      legend: { bottom: 0 },
      series: [
        {
          type: "pie",
          radius: ["45%", "70%"],
          center: ["50%", "45%"],
          label: { show: false },
          data: [
            { name: "true", value: c.true_count ?? 0, itemStyle: { color: "#40c057" } },
            { name: "false", value: c.false_count ?? 0, itemStyle: { color: "#fa5252" } },
            ...(c.nulls ? [{ name: "null", value: c.nulls, itemStyle: { color: "#adb5bd" } }] : []),
          ],
        },
      ],
    };
  }
  if (c.histogram?.length) {
    const dates = c.kind === "date" || c.kind === "datetime";
    return {
      tooltip,
      grid: { left: 48, right: 12, top: 12, bottom: 48 },
      xAxis: { type: "category", data: c.histogram.map((b) => b.bucket), axisLabel: { rotate: 30, fontSize: 10, hideOverlap: true } },
      yAxis: { type: "value" },
      series: [
        dates
          ? { type: "line", data: c.histogram.map((b) => b.count), areaStyle: {}, smooth: true, showSymbol: false }
          : { type: "bar", data: c.histogram.map((b) => b.count), barCategoryGap: "5%" },
      ],
    };
  }
  if (c.top_values?.length) {
    const top = [...c.top_values].reverse();
    return {
      tooltip,
      grid: { left: 110, right: 24, top: 8, bottom: 24 },
      xAxis: { type: "value" },
      yAxis: {
        type: "category",
        data: top.map((t) => (t.value === null ? "null" : t.value === "" ? "(empty)" : String(t.value))),
        axisLabel: { width: 100, overflow: "truncate", fontSize: 11 },
      },
      series: [{ type: "bar", data: top.map((t) => t.count) }],
    };
  }
  return null;
}

function ColumnCard({ column: c, rowCount }: { column: ColumnStats; rowCount: number }) {
  const option = useMemo(() => columnChart(c), [c]);
  const total = rowCount || c.count + c.nulls;
  const nullPct = total ? (100 * c.nulls) / total : 0;
  const numeric = c.kind === "number";
  const dates = c.kind === "date" || c.kind === "datetime";
  return (
    <Card withBorder data-testid={`stats-column-${c.name}`}>
      <Group justify="space-between" wrap="nowrap" mb="xs">
        <Text fw={600} truncate>
          {c.name}
        </Text>
        <TypeBadge type={c.type} kind={c.kind} />
      </Group>
      <Table fz="sm" withRowBorders={false}>
        <Table.Tbody>
          <Stat label="Count" value={c.count} />
          <Table.Tr>
            <Table.Td c="dimmed" py={2}>
              Nulls
            </Table.Td>
            <Table.Td py={2} ta="right">
              {fmt(c.nulls)} ({nullPct.toFixed(1)}%)
              <Progress value={nullPct} size="xs" color="gray" mt={2} aria-label={`Nulls in ${c.name}`} />
            </Table.Td>
          </Table.Tr>
          <Stat label="Distinct" value={c.distinct} />
          {numeric && (
            <>
              <Stat label="Min" value={c.min} />
              <Stat label="Max" value={c.max} />
              <Stat label="Mean" value={c.mean} />
              <Stat label="Median" value={c.median} />
            </>
          )}
          {dates && <Stat label="Range" value={c.min == null ? null : `${fmt(c.min)} → ${fmt(c.max)}`} />}
          {c.kind === "boolean" && (
            <>
              <Stat label="True" value={c.true_count} />
              <Stat label="False" value={c.false_count} />
            </>
          )}
        </Table.Tbody>
      </Table>
      {option && (
        <div style={{ marginTop: 8 }}>
          <Text size="xs" c="dimmed">
            {c.kind === "boolean" ? "True / false" : c.histogram?.length ? (dates ? "Rows per period" : "Distribution") : "Top values"}
          </Text>
          <EChart option={option} height={c.top_values?.length && !c.histogram?.length ? Math.max(120, c.top_values.length * 22 + 32) : 180} testId={`stats-chart-${c.name}`} />
        </div>
      )}
    </Card>
  );
}

export function StatisticsPanel({ schema, table }: { schema: string; table: string }) {
  const slug = useOrgSlug();
  const queryClient = useQueryClient();
  const key = ["org", slug, "explore", "statistics", schema, table];
  const stats = useQuery({
    queryKey: key,
    queryFn: () => exploreApi.statistics(schema, table),
    refetchInterval: (q) => (active(q.state.data) ? 1000 : false),
  });
  const compute = useApiMutation(() => exploreApi.computeStatistics(schema, table), {
    onSuccess: (s) => queryClient.setQueryData(key, s),
  });
  const s = stats.data;
  const running = active(s);
  const pct = s?.progress?.total ? (100 * (s.progress.done ?? 0)) / s.progress.total : 0;

  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {s?.computed_at && s.status === "succeeded"
            ? `Computed ${formatDateTime(s.computed_at)} over ${fmt(s.row_count)} rows.`
            : s === null
              ? "Statistics have not been computed for this table yet."
              : ""}
        </Text>
        <Button
          leftSection={s ? <IconRefresh size={16} /> : <IconChartHistogram size={16} />}
          variant={s ? "default" : "filled"}
          loading={compute.isPending}
          disabled={running || stats.isPending}
          onClick={() => compute.mutate()}
          data-testid="stats-compute"
        >
          {s ? "Recompute" : "Compute statistics"}
        </Button>
      </Group>
      <ApiErrorAlert error={stats.error ?? compute.error} title="Statistics failed" />
      {stats.isPending && <Loader size="sm" />}
      {running && (
        <Card withBorder data-testid="stats-progress">
          <Group justify="space-between" mb={6}>
            <Text size="sm">
              {s!.status === "queued" ? "Waiting to start…" : `Computing${s!.progress?.current ? `: ${s!.progress.current}` : "…"}`}
            </Text>
            {s!.progress?.total ? (
              <Text size="sm" c="dimmed">
                {s!.progress.done} / {s!.progress.total} columns
              </Text>
            ) : null}
          </Group>
          <Progress value={s!.status === "queued" ? 100 : pct} striped animated={running} />
        </Card>
      )}
      {s?.status === "failed" && <ApiErrorAlert error={new Error(s.error || "The statistics job failed.")} title="Statistics failed" />}
      {s?.status === "succeeded" && (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }} data-testid="stats-columns">
          {s.columns.map((c) => (
            <ColumnCard key={c.name} column={c} rowCount={s.row_count ?? 0} />
          ))}
        </SimpleGrid>
      )}
      {s?.status === "succeeded" && s.columns.length === 0 && (
        <Title order={5} c="dimmed">
          No columns.
        </Title>
      )}
    </Stack>
  );
}
