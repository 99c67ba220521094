import {
  Alert,
  Anchor,
  Badge,
  Breadcrumbs,
  Button,
  Card,
  Checkbox,
  Code,
  Collapse,
  Group,
  List,
  Loader,
  Modal,
  Radio,
  ScrollArea,
  Stack,
  Table,
  Tabs,
  Text,
  Title,
  Tooltip,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import {
  IconAlertTriangle,
  IconChevronDown,
  IconChevronRight,
  IconEraser,
  IconHistory,
  IconInfoCircle,
  IconListDetails,
  IconPencil,
  IconPlayerPlay,
  IconPlayerStop,
  IconRefresh,
  IconSettings,
  IconTrash,
} from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { isApiError } from "../api/errors";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { DangerFooter } from "../app/DangerFooter";
import { EChart, type EChartOption } from "../app/EChart";
import { formatDateTime, formatDuration, formatNumber } from "../app/format";
import { useCan, useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { isTerminal, statusColor } from "../system/runStatus";
import { connectionApi, ingestKeys, type Connection, type SyncRun, type SchemaChange } from "./api";
import { DeleteConnectionModal, RunStatusBadge, runStarted } from "./ConnectionParts";
import { DESTINATION_MODE_LABELS, SYNC_MODE_LABELS, pathText, runRecords } from "./connectionModel";
import { SyncRunPanel } from "./SyncRunPanel";

const STATUS_HEX: Record<string, string> = {
  green: "#40c057",
  red: "#fa5252",
  yellow: "#fab005",
  blue: "#228be6",
  orange: "#fd7e14",
  dark: "#495057",
  gray: "#adb5bd",
};

// ---- schema change -------------------------------------------------------------------------------

function SchemaDiff({ change }: { change: SchemaChange }) {
  const changed = Object.entries(change.streams_changed);
  return (
    <List size="sm" spacing={2} data-testid="schema-change-diff">
      {change.streams_added.length > 0 && <List.Item>New streams (not selected): {change.streams_added.join(", ")}</List.Item>}
      {change.streams_removed.length > 0 && <List.Item>Streams gone: {change.streams_removed.join(", ")}</List.Item>}
      {changed.map(([name, c]) => (
        <List.Item key={name}>
          <b>{name}</b>:{" "}
          {[
            c.columns_added.length ? `columns added ${c.columns_added.join(", ")}` : "",
            c.columns_removed.length ? `columns removed ${c.columns_removed.join(", ")}` : "",
            c.types_changed.length ? `types changed ${c.types_changed.join(", ")}` : "",
          ]
            .filter(Boolean)
            .join("; ")}
        </List.Item>
      ))}
    </List>
  );
}

const seenKey = (id: number) => `dalgo.schemaChangeSeen.${id}`;

/** A breaking change waits for an admin (syncs are refused meanwhile); a non-breaking one was applied and can be dismissed. */
function SchemaChangeBanner({ connection }: { connection: Connection }) {
  const slug = useOrgSlug();
  const canEdit = useCan("connection.edit");
  const change = connection.schema_change;
  const [seen, setSeen] = useState(() => {
    try {
      return localStorage.getItem(seenKey(connection.id));
    } catch {
      return null;
    }
  });
  const approve = useApiMutation(() => connectionApi.schemaApprove(connection.id), {
    invalidate: [ingestKeys.connection(slug, connection.id), ingestKeys.connections(slug)],
    onSuccess: () => notifications.show({ color: "green", message: "Schema changes approved: the next sync uses them." }),
  });
  if (!change) return null;
  const detected = change.detected_at ? ` (detected ${formatDateTime(change.detected_at)})` : "";

  if (connection.schema_change_needs_approval) {
    return (
      <Alert
        color="orange"
        variant="light"
        icon={<IconAlertTriangle size={18} />}
        title={`The source's schema changed: review needed${detected}`}
        data-testid="schema-change"
        data-breaking="true"
      >
        <Stack gap="xs">
          <List size="sm" spacing={2} data-testid="schema-change-breaking">
            {change.breaking.map((b) => (
              <List.Item key={b}>{b}</List.Item>
            ))}
          </List>
          <SchemaDiff change={change} />
          <Text size="sm">
            Syncs are paused until the change is approved. Approving drops the streams that are gone from the
            connection, and streams whose key or cursor is gone get the default settings and are read again in full.
          </Text>
          <ApiErrorAlert error={approve.error} title="Could not approve" />
          {canEdit ? (
            <Group>
              <Button color="orange" loading={approve.isPending} onClick={() => approve.mutate()} data-testid="schema-approve">
                Approve changes
              </Button>
              <Button variant="default" component={Link} to={`/ingest/connections/${connection.id}/edit`}>
                Review streams
              </Button>
            </Group>
          ) : (
            <Text size="sm" c="dimmed">
              Ask an admin of your organisation to review and approve the change.
            </Text>
          )}
        </Stack>
      </Alert>
    );
  }

  if (seen && seen === (change.detected_at ?? "")) return null;
  return (
    <Alert
      color="blue"
      variant="light"
      icon={<IconInfoCircle size={18} />}
      title={`The source's schema changed${detected}`}
      withCloseButton
      closeButtonLabel="Dismiss"
      onClose={() => {
        const value = change.detected_at ?? "";
        try {
          localStorage.setItem(seenKey(connection.id), value);
        } catch {
          /* storage unavailable: dismissed for this visit only */
        }
        setSeen(value);
      }}
      data-testid="schema-change"
      data-breaking="false"
    >
      <Stack gap="xs">
        <SchemaDiff change={change} />
        <Text size="sm" c="dimmed">
          Applied: new streams are not selected, new columns load from the next sync, removed columns stay empty.
        </Text>
      </Stack>
    </Alert>
  );
}

// ---- history ---------------------------------------------------------------------------------------

function SyncsChart({ runs }: { runs: SyncRun[] }) {
  const option = useMemo<EChartOption>(() => {
    const shown = runs.slice(0, 30).reverse();
    return {
      grid: { left: 64, right: 16, top: 16, bottom: 48 },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: (params: unknown) => {
          const p = (Array.isArray(params) ? params[0] : params) as { dataIndex: number };
          const run = shown[p.dataIndex];
          if (!run) return "";
          return `${formatDateTime(runStarted(run))}<br/>${run.status} · ${formatNumber(runRecords(run) ?? 0)} records · ${formatDuration(run.duration_seconds)}`;
        },
      },
      xAxis: {
        type: "category",
        data: shown.map((r) => new Date(runStarted(r)).toLocaleDateString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })),
        axisLabel: { fontSize: 10 },
      },
      yAxis: { type: "value", name: "records", nameTextStyle: { fontSize: 10 } },
      series: [
        {
          type: "bar",
          data: shown.map((r) => ({
            value: runRecords(r) ?? 0,
            itemStyle: { color: STATUS_HEX[statusColor(r.status)] ?? STATUS_HEX.gray },
          })),
        },
      ],
    };
  }, [runs]);
  return <EChart option={option} height={220} testId="syncs-chart" />;
}

function SyncHistory({ connection, selected, onSelect }: { connection: Connection; selected: string | null; onSelect: (id: string) => void }) {
  const slug = useOrgSlug();
  const syncs = useQuery({
    queryKey: ingestKeys.syncs(slug, connection.id),
    queryFn: () => connectionApi.syncs(connection.id),
    refetchInterval: (q) => (q.state.data?.some((r) => !isTerminal(r.status)) ? 3000 : false),
  });
  return (
    <Card withBorder>
      <Title order={4} mb="sm">
        History
      </Title>
      <ApiErrorAlert error={syncs.error} />
      {syncs.isPending && <Loader size="sm" />}
      {syncs.data?.length === 0 && (
        <Text size="sm" c="dimmed" data-testid="syncs-empty">
          This connection has not synced yet.
        </Text>
      )}
      {!!syncs.data?.length && (
        <Stack>
          <div>
            <Text size="sm" c="dimmed">
              Records per sync
            </Text>
            <SyncsChart runs={syncs.data} />
          </div>
          <Table.ScrollContainer minWidth={560}>
            <Table highlightOnHover data-testid="syncs-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Started</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Duration</Table.Th>
                  <Table.Th ta="right">Records</Table.Th>
                  <Table.Th>By</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {syncs.data.map((r) => (
                  <Table.Tr
                    key={r.id}
                    bg={r.id === selected ? "var(--mantine-color-blue-light)" : undefined}
                    style={{ cursor: "pointer" }}
                    onClick={() => onSelect(r.id)}
                    aria-selected={r.id === selected}
                    data-testid={`sync-row-${r.id}`}
                  >
                    <Table.Td>
                      <Anchor component="button" size="sm" onClick={() => onSelect(r.id)}>
                        {formatDateTime(runStarted(r))}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <RunStatusBadge status={r.status} />
                    </Table.Td>
                    <Table.Td>{isTerminal(r.status) ? formatDuration(r.duration_seconds) : "…"}</Table.Td>
                    <Table.Td ta="right">{formatNumber(runRecords(r))}</Table.Td>
                    <Table.Td>{r.created_by ?? "—"}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Stack>
      )}
    </Card>
  );
}

// ---- streams (read-only) -----------------------------------------------------------------------------

function StreamsSummary({ connection }: { connection: Connection }) {
  const slug = useOrgSlug();
  const queryClient = useQueryClient();
  const canEdit = useCan("connection.edit");
  const refresh = useApiMutation(() => connectionApi.schemaRefresh(connection.id), {
    invalidate: [ingestKeys.connections(slug), ingestKeys.streams(slug, connection.source_id)],
    onSuccess: (out) => {
      queryClient.setQueryData(ingestKeys.connection(slug, connection.id), out);
      const found = !!out.schema_change && out.schema_change.detected_at !== connection.schema_change?.detected_at;
      notifications.show({
        color: found ? (out.schema_change_needs_approval ? "orange" : "blue") : "green",
        message: found ? "The source's schema changed: see the details above." : "No schema changes found.",
      });
    },
  });

  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <div>
          <Title order={4}>Streams</Title>
          <Text size="sm" c="dimmed">
            {connection.streams.filter((s) => s.selected).length} of {connection.streams.length} selected, into schema{" "}
            <Code>{connection.destination_schema}</Code>
          </Text>
        </div>
        {canEdit && (
          <Group gap="xs">
            <Button
              variant="default"
              leftSection={<IconRefresh size={16} />}
              loading={refresh.isPending}
              onClick={() => refresh.mutate()}
              data-testid="schema-refresh"
            >
              Check for schema changes
            </Button>
            <Button variant="default" leftSection={<IconPencil size={16} />} component={Link} to={`/ingest/connections/${connection.id}/edit`}>
              Edit streams
            </Button>
          </Group>
        )}
      </Group>
      <ApiErrorAlert error={refresh.error} title="Could not check the schema" />
      <Table.ScrollContainer minWidth={720}>
        <Table data-testid="connection-streams-summary">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Stream</Table.Th>
              <Table.Th>Table</Table.Th>
              <Table.Th>Sync mode</Table.Th>
              <Table.Th>Destination</Table.Th>
              <Table.Th>Primary key</Table.Th>
              <Table.Th>Cursor</Table.Th>
              <Table.Th>Columns</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {connection.streams.map((s) => (
              <Table.Tr key={s.name} data-testid={`connection-stream-${s.name}`} c={s.selected ? undefined : "dimmed"}>
                <Table.Td>
                  <Group gap={6} wrap="nowrap">
                    <Text size="sm" fw={s.selected ? 500 : undefined}>
                      {s.name}
                    </Text>
                    {!s.selected && (
                      <Badge size="xs" variant="light" color="gray">
                        not synced
                      </Badge>
                    )}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Code>
                    {connection.destination_schema}.{s.table}
                  </Code>
                </Table.Td>
                <Table.Td>{SYNC_MODE_LABELS[s.sync_mode]}</Table.Td>
                <Table.Td>{DESTINATION_MODE_LABELS[s.destination_mode]}</Table.Td>
                <Table.Td>{s.primary_key.length ? pathText(s.primary_key) : "—"}</Table.Td>
                <Table.Td>{s.sync_mode === "incremental" && s.cursor_field.length ? s.cursor_field.join(".") : "—"}</Table.Td>
                <Table.Td>{s.selected_columns == null ? `all ${s.columns.length}` : `${s.selected_columns.length} of ${s.columns.length}`}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Card>
  );
}

// ---- manage: clear, state, delete -----------------------------------------------------------------------

function ClearDataModal({ connection, opened, onClose }: { connection: Connection; opened: boolean; onClose: () => void }) {
  const slug = useOrgSlug();
  const [which, setWhich] = useState<"all" | "some">("all");
  const [chosen, setChosen] = useState<string[]>([]);
  const clear = useApiMutation(connectionApi.clear, {
    invalidate: [ingestKeys.connection(slug, connection.id)],
    onSuccess: (_out, vars) => {
      notifications.show({
        message: vars.streams ? `Cleared ${vars.streams.join(", ")}.` : "Cleared every stream of the connection.",
      });
      close();
    },
  });
  const close = () => {
    clear.reset();
    setWhich("all");
    setChosen([]);
    onClose();
  };
  const tables = (which === "all" ? connection.streams.map((s) => s.name) : chosen).map(
    (n) => `${connection.destination_schema}.${connection.streams.find((s) => s.name === n)?.table ?? n}`,
  );
  return (
    <Modal opened={opened} onClose={close} title="Clear data" size="lg">
      <Stack data-testid="clear-modal">
        <Radio.Group value={which} onChange={(v) => setWhich(v as "all" | "some")} label="What to clear">
          <Stack gap="xs" mt="xs">
            <Radio value="all" label="Every stream" data-testid="clear-all" />
            <Radio value="some" label="Chosen streams" data-testid="clear-some" />
          </Stack>
        </Radio.Group>
        {which === "some" && (
          <ScrollArea.Autosize mah={240}>
            <Checkbox.Group value={chosen} onChange={setChosen}>
              <Stack gap={4}>
                {connection.streams.map((s) => (
                  <Checkbox key={s.name} value={s.name} label={s.name} data-testid={`clear-stream-${s.name}`} />
                ))}
              </Stack>
            </Checkbox.Group>
          </ScrollArea.Autosize>
        )}
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />}>
          <Text size="sm">
            This drops {tables.length === 1 ? "the table" : `${tables.length} tables`} from the warehouse
            {tables.length > 0 && tables.length <= 6 ? `: ${tables.join(", ")}` : ""} and forgets where the syncs got
            to, so the next sync reads {which === "all" ? "everything" : "these streams"} from the start. It cannot be
            undone.
          </Text>
        </Alert>
        <DangerFooter
          error={clear.error}
          errorTitle="Could not clear the data"
          onCancel={close}
          onConfirm={() => clear.mutate({ id: connection.id, streams: which === "all" ? null : chosen })}
          loading={clear.isPending}
          disabled={which === "some" && chosen.length === 0}
          testId="clear-submit"
        >
          Clear data
        </DangerFooter>
      </Stack>
    </Modal>
  );
}

function SavedState({ connection }: { connection: Connection }) {
  const slug = useOrgSlug();
  const [open, setOpen] = useState(false);
  const state = useQuery({
    queryKey: ingestKeys.state(slug, connection.id),
    queryFn: () => connectionApi.state(connection.id),
    enabled: open,
  });
  const Chevron = open ? IconChevronDown : IconChevronRight;
  return (
    <Card withBorder data-testid="connection-state">
      <Button variant="subtle" px={0} leftSection={<Chevron size={16} />} onClick={() => setOpen((o) => !o)} aria-expanded={open} data-testid="state-toggle">
        Saved state (advanced)
      </Button>
      <Text size="sm" c="dimmed">
        Where the incremental streams got to: the checkpoint the connector resumes from.
      </Text>
      <Collapse in={open}>
        <Stack mt="sm" gap="xs">
          {state.isFetching && <Loader size="sm" />}
          <ApiErrorAlert error={state.error} />
          {state.data && (
            <>
              <Text size="sm">
                <Text span c="dimmed" inherit>
                  Kind:{" "}
                </Text>
                {state.data.kind ?? "none saved"}
              </Text>
              {Object.keys(state.data.streams).length > 0 && (
                <Table data-testid="state-streams">
                  <Table.Tbody>
                    {Object.entries(state.data.streams).map(([name, value]) => (
                      <Table.Tr key={name}>
                        <Table.Td w={200}>{name}</Table.Td>
                        <Table.Td>
                          <Code style={{ wordBreak: "break-all" }}>{JSON.stringify(value)}</Code>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
              <Code block data-testid="state-json">
                {JSON.stringify(state.data.raw, null, 2)}
              </Code>
            </>
          )}
        </Stack>
      </Collapse>
    </Card>
  );
}

function Manage({ connection }: { connection: Connection }) {
  const navigate = useNavigate();
  const canEdit = useCan("connection.edit");
  const canSync = useCan("connection.sync");
  const [clearing, setClearing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const busy = !!connection.running;
  return (
    <Stack>
      {canSync && (
        <Card withBorder>
          <Group justify="space-between">
            <div>
              <Title order={5}>Clear data</Title>
              <Text size="sm" c="dimmed">
                Drop the tables of every stream or chosen ones; their next sync reads everything again.
              </Text>
            </div>
            <Tooltip label="Wait for the sync to end" disabled={!busy}>
              <Button color="red" variant="light" leftSection={<IconEraser size={16} />} disabled={busy} onClick={() => setClearing(true)} data-testid="connection-clear">
                Clear data…
              </Button>
            </Tooltip>
          </Group>
          <ClearDataModal connection={connection} opened={clearing} onClose={() => setClearing(false)} />
        </Card>
      )}
      {canEdit && <SavedState connection={connection} />}
      {canEdit && (
        <Card withBorder>
          <Group justify="space-between">
            <div>
              <Title order={5}>Delete the connection</Title>
              <Text size="sm" c="dimmed">
                Its settings and sync history go; the tables it loaded stay in the warehouse.
              </Text>
            </div>
            <Tooltip label="Wait for the sync to end" disabled={!busy}>
              <Button color="red" variant="light" leftSection={<IconTrash size={16} />} disabled={busy} onClick={() => setDeleting(true)} data-testid="connection-delete">
                Delete
              </Button>
            </Tooltip>
          </Group>
          <DeleteConnectionModal
            connection={deleting ? connection : null}
            onClose={() => setDeleting(false)}
            onDeleted={() => navigate("/ingest?tab=connections")}
          />
        </Card>
      )}
    </Stack>
  );
}

// ---- the page ------------------------------------------------------------------------------------------

/** /ingest/connections/:id: sync now / cancel, live progress and logs, history, streams, schema changes, clear, state, delete. */
export function ConnectionPage() {
  const slug = useOrgSlug();
  const queryClient = useQueryClient();
  const canEdit = useCan("connection.edit");
  const canSync = useCan("connection.sync");
  const id = Number(useParams().id);
  const [params, setParams] = useSearchParams();
  const connection = useQuery({
    queryKey: ingestKeys.connection(slug, id),
    queryFn: () => connectionApi.get(id),
    enabled: Number.isInteger(id),
    refetchInterval: (q) => (q.state.data?.running ? 3000 : false),
  });
  const c = connection.data;
  const tab = params.get("tab") === "streams" ? "streams" : params.get("tab") === "manage" && (canEdit || canSync) ? "manage" : "syncs";
  const pickedRun = params.get("run");
  const setParam = (key: string, value: string | null) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set(key, value);
        else next.delete(key);
        return next;
      },
      { replace: true },
    );

  const refetchAll = () => {
    void queryClient.invalidateQueries({ queryKey: ingestKeys.connection(slug, id) });
    void queryClient.invalidateQueries({ queryKey: ingestKeys.connections(slug) });
  };
  const sync = useApiMutation(() => connectionApi.sync(id), {
    invalidate: [ingestKeys.connection(slug, id), ingestKeys.connections(slug)],
    onSuccess: (run) => setParams({ run: run.id }, { replace: true }),
  });
  const cancel = useApiMutation(connectionApi.cancel, {
    invalidate: [ingestKeys.connection(slug, id)],
  });
  const syncRunning = isApiError(sync.error) && sync.error.code === "sync_running" ? sync.error : null;

  if (!c) {
    return (
      <Stack gap="lg" data-testid="page-connection">
        <Breadcrumbs>
          <Anchor component={Link} to="/ingest?tab=connections">
            Connections
          </Anchor>
        </Breadcrumbs>
        {connection.isPending && <Loader />}
        <ApiErrorAlert error={connection.error} />
      </Stack>
    );
  }

  const running = c.running;
  const shownRun = pickedRun ?? running?.id ?? c.last_sync?.id ?? null;
  const shownTitle = shownRun === running?.id ? "Current sync" : shownRun === c.last_sync?.id ? "Last sync" : "Earlier sync";

  return (
    <Stack gap="lg" data-testid="page-connection">
      <Breadcrumbs>
        <Anchor component={Link} to="/ingest?tab=connections">
          Connections
        </Anchor>
        <Text>{c.name}</Text>
      </Breadcrumbs>
      <Group justify="space-between" align="flex-start">
        <div>
          <Title order={2}>{c.name}</Title>
          <Text c="dimmed">
            <Anchor component={Link} to={`/ingest/sources/${c.source_id}`} inherit>
              {c.source_name}
            </Anchor>{" "}
            → schema <Code>{c.destination_schema}</Code> · {c.streams.filter((s) => s.selected).length} streams
          </Text>
        </div>
        <Group gap="xs">
          {canSync && running && (
            <Button
              color="red"
              variant="light"
              leftSection={<IconPlayerStop size={16} />}
              loading={cancel.isPending}
              disabled={running.status === "cancelling"}
              onClick={() => cancel.mutate({ id, runId: running.id })}
              data-testid="connection-cancel"
            >
              {running.status === "cancelling" ? "Cancelling…" : "Cancel"}
            </Button>
          )}
          {canSync && (
            <Tooltip label="A schema change waits for approval" disabled={!c.schema_change_needs_approval || !!running}>
              <Button
                leftSection={running ? <Loader size={14} color="white" /> : <IconPlayerPlay size={16} />}
                loading={sync.isPending}
                disabled={!!running || c.schema_change_needs_approval}
                onClick={() => {
                  sync.reset();
                  sync.mutate();
                }}
                data-testid="connection-sync"
              >
                {running ? "Syncing…" : "Sync now"}
              </Button>
            </Tooltip>
          )}
          {canEdit && (
            <Button variant="default" leftSection={<IconPencil size={16} />} component={Link} to={`/ingest/connections/${c.id}/edit`} data-testid="connection-edit">
              Edit
            </Button>
          )}
        </Group>
      </Group>

      {syncRunning ? (
        <Alert color="yellow" variant="light" icon={<IconAlertTriangle size={18} />} title="Not started" data-testid="sync-running-alert">
          <Group justify="space-between">
            <Text size="sm">{syncRunning.detail}</Text>
            {syncRunning.related.run_id && (
              <Button
                size="xs"
                variant="light"
                onClick={() => {
                  setParams({ run: syncRunning.related.run_id }, { replace: true });
                  sync.reset();
                  refetchAll();
                }}
                data-testid="sync-running-view"
              >
                View the running sync
              </Button>
            )}
          </Group>
        </Alert>
      ) : (
        <ApiErrorAlert error={sync.error} title="Could not start the sync" />
      )}
      <ApiErrorAlert error={cancel.error} title="Could not cancel the sync" />
      <SchemaChangeBanner connection={c} />

      <Tabs value={tab} onChange={(v) => setParam("tab", v && v !== "syncs" ? v : null)} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="syncs" leftSection={<IconHistory size={16} />} data-testid="tab-syncs">
            Syncs
          </Tabs.Tab>
          <Tabs.Tab value="streams" leftSection={<IconListDetails size={16} />} data-testid="tab-streams">
            Streams
          </Tabs.Tab>
          {(canEdit || canSync) && (
            <Tabs.Tab value="manage" leftSection={<IconSettings size={16} />} data-testid="tab-manage">
              Manage
            </Tabs.Tab>
          )}
        </Tabs.List>
        <Tabs.Panel value="syncs">
          <Stack>
            {shownRun ? (
              <SyncRunPanel
                key={shownRun}
                connectionId={c.id}
                runId={shownRun}
                placeholder={shownRun === running?.id ? running : shownRun === c.last_sync?.id ? c.last_sync : undefined}
                title={shownTitle}
                actions={
                  pickedRun && (running ?? c.last_sync) && pickedRun !== (running ?? c.last_sync)?.id ? (
                    <Button size="xs" variant="subtle" onClick={() => setParam("run", null)} data-testid="sync-show-current">
                      {running ? "Show the current sync" : "Show the last sync"}
                    </Button>
                  ) : undefined
                }
              />
            ) : (
              <Card withBorder data-testid="sync-none">
                <Text size="sm" c="dimmed">
                  No sync yet. {canSync ? "Press Sync now to load the selected streams into the warehouse." : ""}
                </Text>
              </Card>
            )}
            <SyncHistory connection={c} selected={shownRun} onSelect={(runId) => setParam("run", runId)} />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="streams">
          <StreamsSummary connection={c} />
        </Tabs.Panel>
        {(canEdit || canSync) && (
          <Tabs.Panel value="manage">
            <Manage connection={c} />
          </Tabs.Panel>
        )}
      </Tabs>
    </Stack>
  );
}
