import { ActionIcon, Anchor, Button, Card, Group, Loader, Stack, Table, Text, ThemeIcon, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconDatabaseImport, IconPencil, IconPlugConnected, IconPlus, IconTrash } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { formatDateTime } from "../app/format";
import { useCan, useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { ingestApi, ingestKeys, type Source } from "./api";
import { DeleteSourceModal, LastCheckBadge } from "./SourceParts";

export function useSources() {
  const slug = useOrgSlug();
  return useQuery({ queryKey: ingestKeys.sources(slug), queryFn: ingestApi.sources });
}

/** The org's sources: last check, Check (anyone who may view), Edit / Delete / New (source.edit). */
export function SourcesTab() {
  const slug = useOrgSlug();
  const canEdit = useCan("source.edit");
  const sources = useSources();
  const [deleting, setDeleting] = useState<Source | null>(null);
  const check = useApiMutation(ingestApi.checkSaved, {
    invalidate: [ingestKeys.sources(slug)],
    onSuccess: (result, id) => {
      const name = sources.data?.find((s) => s.id === id)?.name ?? "The source";
      notifications.show({
        color: result.ok ? "green" : "red",
        title: result.ok ? `${name}: connection works` : `${name}: connection failed`,
        message: result.message,
      });
    },
  });

  if (sources.isPending) return <Loader />;
  if (sources.error) return <ApiErrorAlert error={sources.error} />;
  const list = sources.data;

  const newButton = canEdit && (
    <Button component={Link} to="/ingest/sources/new" leftSection={<IconPlus size={16} />} data-testid="source-new">
      New source
    </Button>
  );

  if (list.length === 0) {
    return (
      <Card withBorder padding="xl" data-testid="sources-empty">
        <Stack align="center" ta="center">
          <ThemeIcon size={64} radius="xl" variant="light">
            <IconDatabaseImport size={34} />
          </ThemeIcon>
          <Text size="lg" fw={500}>
            No sources yet.
          </Text>
          <Text c="dimmed" size="sm" maw={560}>
            A source is where your data lives: KoboToolbox-style forms, CommCare, SurveyCTO, Avni, Google Sheets,
            files or databases. {canEdit ? "Add the first one to start bringing data into your warehouse." : "Ask an admin of your organisation to add one."}
          </Text>
          {canEdit && (
            <Button component={Link} to="/ingest/sources/new" leftSection={<IconPlus size={16} />} data-testid="source-new">
              Add your first source
            </Button>
          )}
        </Stack>
      </Card>
    );
  }

  return (
    <Stack>
      <ApiErrorAlert error={check.error} title="Could not check the source" />
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {list.length} {list.length === 1 ? "source" : "sources"}
        </Text>
        {newButton}
      </Group>
      <Table.ScrollContainer minWidth={640}>
        <Table highlightOnHover data-testid="sources-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Connector</Table.Th>
              <Table.Th>Last check</Table.Th>
              <Table.Th>Updated</Table.Th>
              <Table.Th w={130} />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.map((s) => (
              <Table.Tr key={s.id} data-testid={`source-row-${s.id}`}>
                <Table.Td>
                  <Anchor component={Link} to={`/ingest/sources/${s.id}`} fw={500}>
                    {s.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{s.connector_name}</Text>
                  <Text size="xs" c="dimmed">
                    {s.package} {s.version}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <LastCheckBadge source={s} />
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{formatDateTime(s.updated_at)}</Text>
                </Table.Td>
                <Table.Td>
                  <Group gap={4} justify="flex-end" wrap="nowrap">
                    <Tooltip label="Check connection">
                      <ActionIcon
                        variant="subtle"
                        aria-label={`Check ${s.name}`}
                        loading={check.isPending && check.variables === s.id}
                        onClick={() => check.mutate(s.id)}
                        data-testid={`source-check-${s.id}`}
                      >
                        <IconPlugConnected size={18} />
                      </ActionIcon>
                    </Tooltip>
                    {canEdit && (
                      <>
                        <Tooltip label="Edit">
                          <ActionIcon
                            variant="subtle"
                            component={Link}
                            to={`/ingest/sources/${s.id}`}
                            aria-label={`Edit ${s.name}`}
                            data-testid={`source-edit-${s.id}`}
                          >
                            <IconPencil size={18} />
                          </ActionIcon>
                        </Tooltip>
                        <Tooltip label="Delete">
                          <ActionIcon
                            variant="subtle"
                            color="red"
                            aria-label={`Delete ${s.name}`}
                            onClick={() => setDeleting(s)}
                            data-testid={`source-delete-${s.id}`}
                          >
                            <IconTrash size={18} />
                          </ActionIcon>
                        </Tooltip>
                      </>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {canEdit && <DeleteSourceModal source={deleting} onClose={() => setDeleting(null)} />}
    </Stack>
  );
}
