import { Badge, Button, Card, Center, Group, Loader, Stack, Table, Text, Title, UnstyledButton } from "@mantine/core";
import { IconChevronDown, IconChevronRight, IconRefresh, IconSearch } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { formatDateTime } from "../app/format";
import { useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { ingestApi, ingestKeys, type Source, type SourceStream, type SourceStreams as StreamsOut } from "./api";

const MODE_LABELS: Record<string, string> = { full_refresh: "full refresh", incremental: "incremental" };

const keyText = (key: string[][]) => (key.length ? key.map((path) => path.join(".")).join(", ") : "—");

function StreamRow({ stream }: { stream: SourceStream }) {
  const [open, setOpen] = useState(false);
  const Chevron = open ? IconChevronDown : IconChevronRight;
  const id = stream.namespace ? `${stream.namespace}.${stream.name}` : stream.name;
  return (
    <Fragment>
      <Table.Tr data-testid={`stream-${stream.name}`}>
        <Table.Td>
          <Text fw={500}>{id}</Text>
        </Table.Td>
        <Table.Td>
          <UnstyledButton onClick={() => setOpen((o) => !o)} aria-expanded={open} data-testid={`stream-columns-${stream.name}`}>
            <Group gap={4}>
              <Chevron size={14} />
              <Text size="sm">
                {stream.columns.length} column{stream.columns.length === 1 ? "" : "s"}
              </Text>
            </Group>
          </UnstyledButton>
        </Table.Td>
        <Table.Td>
          <Group gap={4}>
            {stream.supported_sync_modes.map((mode) => (
              <Badge key={mode} variant="light" color={mode === "incremental" ? "teal" : "gray"}>
                {MODE_LABELS[mode] ?? mode}
              </Badge>
            ))}
          </Group>
        </Table.Td>
        <Table.Td>{keyText(stream.source_defined_primary_key)}</Table.Td>
        <Table.Td>
          {stream.default_cursor_field.length ? stream.default_cursor_field.join(".") : "—"}
          {stream.source_defined_cursor && (
            <Text span size="xs" c="dimmed" ml={4}>
              (connector-defined)
            </Text>
          )}
        </Table.Td>
      </Table.Tr>
      {open && (
        <Table.Tr>
          <Table.Td colSpan={5}>
            <Table withRowBorders={false} verticalSpacing={2} data-testid={`stream-column-list-${stream.name}`}>
              <Table.Tbody>
                {stream.columns.map((c) => (
                  <Table.Tr key={c.name}>
                    <Table.Td w={260}>{c.name}</Table.Td>
                    <Table.Td c="dimmed">{c.type}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.Td>
        </Table.Tr>
      )}
    </Fragment>
  );
}

/** The streams the connector offers (its `discover`), run on demand: it takes a few seconds. */
export function SourceStreamsCard({ source }: { source: Source }) {
  const slug = useOrgSlug();
  const queryClient = useQueryClient();
  const key = ingestKeys.streams(slug, source.id);
  const [data, setData] = useState<StreamsOut | undefined>(() => queryClient.getQueryData<StreamsOut>(key));
  const discover = useApiMutation(ingestApi.streams, {
    onSuccess: (out) => {
      queryClient.setQueryData(key, out);
      setData(out);
    },
  });

  return (
    <Card withBorder data-testid="source-streams">
      <Group justify="space-between" mb="sm">
        <div>
          <Title order={4}>Streams</Title>
          <Text size="sm" c="dimmed" data-testid="streams-discovered-at">
            {data?.discovered_at ? `Discovered ${formatDateTime(data.discovered_at)}` : "The tables this source can sync."}
          </Text>
        </div>
        <Button
          variant="default"
          leftSection={data ? <IconRefresh size={16} /> : <IconSearch size={16} />}
          loading={discover.isPending}
          onClick={() => discover.mutate({ id: source.id, refresh: true })}
          data-testid="source-discover"
        >
          {data ? "Refresh" : "Discover streams"}
        </Button>
      </Group>
      <Stack gap="sm">
        <ApiErrorAlert error={discover.error} title="Could not discover the streams" />
        {discover.isPending && (
          <Center py="md" data-testid="streams-loading">
            <Group gap="xs">
              <Loader size="sm" />
              <Text size="sm">Asking the connector for its streams…</Text>
            </Group>
          </Center>
        )}
        {data && !discover.isPending && (
          data.streams.length === 0 ? (
            <Text size="sm" c="dimmed" data-testid="streams-empty">
              The connector reported no streams.
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={640}>
              <Table data-testid="streams-table">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Stream</Table.Th>
                    <Table.Th>Columns</Table.Th>
                    <Table.Th>Sync modes</Table.Th>
                    <Table.Th>Primary key</Table.Th>
                    <Table.Th>Cursor</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.streams.map((s) => (
                    <StreamRow key={`${s.namespace ?? ""}.${s.name}`} stream={s} />
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        )}
      </Stack>
    </Card>
  );
}
