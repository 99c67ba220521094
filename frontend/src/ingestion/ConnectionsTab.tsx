import { ActionIcon, Anchor, Button, Card, Code, Group, Loader, Stack, Table, Text, ThemeIcon, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconArrowsRightLeft, IconPencil, IconPlayerPlay, IconPlus } from "@tabler/icons-react";
import { Link } from "react-router";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { useCan, useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { connectionApi, ingestKeys } from "./api";
import { LastSync, useConnections } from "./ConnectionParts";
import { useSources } from "./SourcesTab";

/** The org's connections: source, schema, streams, last sync (or "Syncing…"); Sync (connection.sync), Edit / New (connection.edit). */
export function ConnectionsTab() {
  const slug = useOrgSlug();
  const canEdit = useCan("connection.edit");
  const canSync = useCan("connection.sync");
  const canEditSources = useCan("source.edit");
  const connections = useConnections();
  const sources = useSources();
  const sync = useApiMutation(connectionApi.sync, {
    invalidate: [ingestKeys.connections(slug)],
    onSuccess: (_run, id) => {
      const name = connections.data?.find((c) => c.id === id)?.name ?? "The connection";
      notifications.show({ color: "blue", message: `${name}: sync started.` });
    },
  });

  if (connections.isPending) return <Loader />;
  if (connections.error) return <ApiErrorAlert error={connections.error} />;
  const list = connections.data;

  if (list.length === 0) {
    const noSources = sources.data?.length === 0;
    return (
      <Card withBorder padding="xl" data-testid="connections-empty">
        <Stack align="center" ta="center">
          <ThemeIcon size={64} radius="xl" variant="light">
            <IconArrowsRightLeft size={34} />
          </ThemeIcon>
          <Text size="lg" fw={500}>
            No connections yet.
          </Text>
          {noSources ? (
            <>
              <Text c="dimmed" size="sm" maw={560} data-testid="connections-no-sources">
                A connection syncs the streams of a source into a schema of your warehouse. There is no source yet:{" "}
                {canEditSources ? "add one first." : "ask an admin of your organisation to add one."}
              </Text>
              {canEditSources && (
                <Button component={Link} to="/ingest/sources/new" leftSection={<IconPlus size={16} />} data-testid="connection-new-source">
                  Add a source
                </Button>
              )}
            </>
          ) : (
            <>
              <Text c="dimmed" size="sm" maw={560}>
                A connection syncs the streams you choose from a source into a schema of your warehouse, on demand or
                on a schedule. {canEdit ? "Create one to load your first data." : "Ask an admin of your organisation to create one."}
              </Text>
              {canEdit && (
                <Button component={Link} to="/ingest/connections/new" leftSection={<IconPlus size={16} />} data-testid="connection-new">
                  New connection
                </Button>
              )}
            </>
          )}
        </Stack>
      </Card>
    );
  }

  return (
    <Stack>
      <ApiErrorAlert error={sync.error} title="Could not start the sync" />
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {list.length} {list.length === 1 ? "connection" : "connections"}
        </Text>
        {canEdit && (
          <Button component={Link} to="/ingest/connections/new" leftSection={<IconPlus size={16} />} data-testid="connection-new">
            New connection
          </Button>
        )}
      </Group>
      <Table.ScrollContainer minWidth={760}>
        <Table highlightOnHover data-testid="connections-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Source</Table.Th>
              <Table.Th>Destination</Table.Th>
              <Table.Th>Streams</Table.Th>
              <Table.Th>Last sync</Table.Th>
              <Table.Th w={90} />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.map((c) => {
              const selected = c.streams.filter((s) => s.selected).length;
              return (
                <Table.Tr key={c.id} data-testid={`connection-row-${c.id}`}>
                  <Table.Td>
                    <Anchor component={Link} to={`/ingest/connections/${c.id}`} fw={500}>
                      {c.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/ingest/sources/${c.source_id}`} size="sm" c="inherit">
                      {c.source_name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Code>{c.destination_schema}</Code>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" data-testid={`connection-streams-${c.id}`}>
                      {selected} of {c.streams.length}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <LastSync connection={c} />
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} justify="flex-end" wrap="nowrap">
                      {canSync && (
                        <Tooltip label={c.running ? "Syncing…" : c.schema_change_needs_approval ? "A schema change waits for approval" : "Sync now"}>
                          <ActionIcon
                            variant="subtle"
                            aria-label={`Sync ${c.name}`}
                            disabled={!!c.running || c.schema_change_needs_approval}
                            loading={sync.isPending && sync.variables === c.id}
                            onClick={() => sync.mutate(c.id)}
                            data-testid={`connection-sync-${c.id}`}
                          >
                            <IconPlayerPlay size={18} />
                          </ActionIcon>
                        </Tooltip>
                      )}
                      {canEdit && (
                        <Tooltip label="Edit">
                          <ActionIcon
                            variant="subtle"
                            component={Link}
                            to={`/ingest/connections/${c.id}/edit`}
                            aria-label={`Edit ${c.name}`}
                            data-testid={`connection-edit-${c.id}`}
                          >
                            <IconPencil size={18} />
                          </ActionIcon>
                        </Tooltip>
                      )}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
