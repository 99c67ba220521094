import { Badge, Card, Code, Group, Pagination, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { client, unwrap } from "../api/client";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { formatDateTime } from "../app/format";
import { useOrgSlug } from "../app/session";
import { compact, jsonDiff } from "./jsonDiff";

const PAGE_SIZE = 25;

export function AuditDiff({ before, after }: { before: Record<string, unknown> | null; after: Record<string, unknown> | null }) {
  const entries = jsonDiff(before, after);
  if (entries.length === 0) return <Text c="dimmed" size="xs">—</Text>;
  return (
    <Stack gap={2} data-testid="audit-diff">
      {entries.map((e) => (
        <Text key={e.key} size="xs" ff="monospace">
          <Text span fw={600} inherit>
            {e.key}
          </Text>
          {": "}
          {e.kind === "added" && <Text span c="green.8" inherit>+ {compact(e.after)}</Text>}
          {e.kind === "removed" && <Text span c="red.8" td="line-through" inherit>{compact(e.before)}</Text>}
          {e.kind === "changed" && (
            <>
              <Text span c="red.8" td="line-through" inherit>
                {compact(e.before)}
              </Text>
              {" → "}
              <Text span c="green.8" inherit>
                {compact(e.after)}
              </Text>
            </>
          )}
        </Text>
      ))}
    </Stack>
  );
}

export function AuditPage() {
  const slug = useOrgSlug();
  const [page, setPage] = useState(1);
  const [action, setAction] = useState("");
  const [debounced] = useDebouncedValue(action.trim(), 300);
  const audit = useQuery({
    queryKey: ["org", slug, "audit", page, debounced],
    queryFn: () =>
      unwrap(
        client.GET("/api/audit", {
          params: { query: { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, action: debounced || undefined } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const pages = Math.max(1, Math.ceil((audit.data?.total ?? 0) / PAGE_SIZE));
  return (
    <Stack gap="lg">
      <Title order={2}>Audit log</Title>
      <Group justify="space-between" align="flex-end">
        <TextInput
          label="Action"
          placeholder="e.g. member.invite"
          value={action}
          onChange={(e) => {
            setAction(e.currentTarget.value);
            setPage(1);
          }}
          w={280}
        />
        <Text size="sm" c="dimmed">
          {audit.data ? `${audit.data.total} events` : ""}
        </Text>
      </Group>
      <ApiErrorAlert error={audit.error} />
      <Card withBorder p={0}>
        <Table striped data-testid="audit-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Who</Table.Th>
              <Table.Th>Action</Table.Th>
              <Table.Th>Target</Table.Th>
              <Table.Th>Changes</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {audit.data?.items.map((e) => (
              <Table.Tr key={e.id} data-testid={`audit-${e.id}`}>
                <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(e.created_at)}</Table.Td>
                <Table.Td>
                  {e.actor_email || "system"}
                  {e.ip && (
                    <Text size="xs" c="dimmed">
                      {e.ip}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Badge variant="light" tt="none">
                    {e.action}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {e.target_label || e.target_id}
                  <Text size="xs" c="dimmed">
                    <Code>{e.target_type}</Code>
                  </Text>
                </Table.Td>
                <Table.Td>
                  <AuditDiff before={e.before} after={e.after} />
                </Table.Td>
              </Table.Tr>
            ))}
            {audit.data?.items.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={5}>
                  <Text c="dimmed" ta="center" p="md">
                    No events{debounced ? ` for "${debounced}"` : ""}.
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Card>
      {pages > 1 && <Pagination value={page} onChange={setPage} total={pages} />}
    </Stack>
  );
}
