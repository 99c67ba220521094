import { Anchor, Badge, Group, Loader, Modal, Stack, Text, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { DangerFooter } from "../app/DangerFooter";
import { formatAgo, formatDateTime, formatNumber } from "../app/format";
import { useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { statusColor } from "../system/runStatus";
import { connectionApi, ingestKeys, type Connection, type SyncRun } from "./api";
import { runRecords } from "./connectionModel";

/** The org's connections; polled while any of them syncs. */
export function useConnections() {
  const slug = useOrgSlug();
  return useQuery({
    queryKey: ingestKeys.connections(slug),
    queryFn: connectionApi.list,
    refetchInterval: (q) => (q.state.data?.some((c) => c.running) ? 5000 : false),
  });
}

export function RunStatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <Badge color={statusColor(status)} variant="light" data-testid={testId} style={{ overflow: "visible" }} miw="fit-content">
      {status}
    </Badge>
  );
}

/** A connection's running sync ("Syncing…") or its last sync: status, when, records. */
export function LastSync({ connection }: { connection: Connection }) {
  if (connection.running) {
    return (
      <Group gap={6} wrap="nowrap" data-testid={`connection-running-${connection.id}`}>
        <Loader size={14} />
        <Text size="sm" c="blue.7">
          {connection.running.status === "queued" ? "Queued…" : "Syncing…"}
        </Text>
      </Group>
    );
  }
  const run = connection.last_sync;
  if (!run) {
    return (
      <Badge color="gray" variant="light" data-testid={`connection-last-sync-${connection.id}`}>
        never synced
      </Badge>
    );
  }
  const records = runRecords(run);
  return (
    <Group gap={6} wrap="nowrap">
      <Tooltip label={run.error || formatDateTime(run.finished_at ?? run.created_at)} multiline maw={360} withArrow>
        <span>
          <RunStatusBadge status={run.status} testId={`connection-last-sync-${connection.id}`} />
        </span>
      </Tooltip>
      <Text size="sm">{formatAgo(run.finished_at ?? run.created_at)}</Text>
      {records != null && (
        <Text size="xs" c="dimmed">
          {formatNumber(records)} records
        </Text>
      )}
    </Group>
  );
}

export const runStarted = (run: SyncRun) => run.started_at ?? run.created_at;

/** Confirms and deletes a connection (its tables stay in the warehouse). */
export function DeleteConnectionModal({
  connection,
  onClose,
  onDeleted,
}: {
  connection: Connection | null;
  onClose: () => void;
  onDeleted?: () => void;
}) {
  const slug = useOrgSlug();
  const remove = useApiMutation(connectionApi.remove, {
    invalidate: [ingestKeys.connections(slug), ["org", slug, "source"]],
    onSuccess: () => {
      notifications.show({ message: `Connection "${connection?.name}" deleted.` });
      close();
      onDeleted?.();
    },
  });
  const close = () => {
    remove.reset();
    onClose();
  };
  return (
    <Modal opened={!!connection} onClose={close} title="Delete the connection">
      <Stack>
        <Text size="sm">
          Dalgo forgets <b>{connection?.name}</b>, its stream settings and its sync history. The tables it loaded stay in
          the warehouse (schema <b>{connection?.destination_schema}</b>); clear the data first if you want them gone.
        </Text>
        <DangerFooter
          error={remove.error}
          onCancel={close}
          onConfirm={() => connection && remove.mutate(connection.id)}
          loading={remove.isPending}
          testId="connection-delete-submit"
        />
      </Stack>
    </Modal>
  );
}

/** Links to connections (a source's dependents). */
export function ConnectionLinks({ connections }: { connections: { id: number; name: string }[] }) {
  return (
    <Stack gap={4}>
      {connections.map((c) => (
        <Anchor key={c.id} component={Link} to={`/ingest/connections/${c.id}`} size="sm" data-testid={`source-connection-${c.id}`}>
          {c.name}
        </Anchor>
      ))}
    </Stack>
  );
}
