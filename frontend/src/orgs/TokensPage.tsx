import { ActionIcon, Alert, Button, Card, Code, CopyButton, Group, Stack, Table, Text, TextInput, Title, Tooltip } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { IconCheck, IconCopy, IconTrash } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { client, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { formatDateTime } from "../app/format";
import { useOrgSlug, useSession } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";

function NewToken({ token, onDone }: { token: Schemas["TokenCreatedOut"]; onDone: () => void }) {
  return (
    <Alert color="yellow" title={`Token "${token.name}" created`} data-testid="token-created">
      <Stack gap="xs">
        <Text size="sm">Copy it now: for your security it will not be shown again.</Text>
        <Group gap="xs" wrap="nowrap">
          <Code block data-testid="token-value" style={{ flex: 1, wordBreak: "break-all" }}>
            {token.token}
          </Code>
          <CopyButton value={token.token}>
            {({ copied, copy }) => (
              <Tooltip label={copied ? "Copied" : "Copy"}>
                <ActionIcon variant="light" onClick={copy} aria-label="Copy token">
                  {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                </ActionIcon>
              </Tooltip>
            )}
          </CopyButton>
        </Group>
        <Text size="xs" c="dimmed">
          Send it as <Code>Authorization: Bearer &lt;token&gt;</Code>; it acts as you, in this organisation only.
        </Text>
        <Group justify="flex-end">
          <Button size="xs" variant="default" onClick={onDone}>
            I have copied it
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

export function TokensPage() {
  const slug = useOrgSlug();
  const { org } = useSession();
  const key = ["org", slug, "tokens"];
  const [created, setCreated] = useState<Schemas["TokenCreatedOut"] | null>(null);
  const tokens = useQuery({ queryKey: key, queryFn: () => unwrap(client.GET("/api/tokens")) });
  const form = useForm({ initialValues: { name: "" } });
  const create = useApiMutation((body: typeof form.values) => unwrap(client.POST("/api/tokens", { body })), {
    form,
    invalidate: [key],
    onSuccess: (t) => {
      setCreated(t);
      form.reset();
    },
  });
  const revoke = useApiMutation(
    (id: number) => unwrap(client.DELETE("/api/tokens/{token_id}", { params: { path: { token_id: id } } })),
    { invalidate: [key] },
  );
  const confirmRevoke = (t: Schemas["TokenOut"]) =>
    modals.openConfirmModal({
      title: "Revoke token",
      children: <Text size="sm">Revoke "{t.name}"? Scripts using it stop working at once.</Text>,
      labels: { confirm: "Revoke", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () =>
        revoke.mutate(t.id, {
          onError: (e) => notifications.show({ color: "red", message: errorMessage(e) }),
        }),
    });

  return (
    <Stack gap="lg" maw={900}>
      <Title order={2}>API tokens</Title>
      <Text c="dimmed">
        Personal tokens for scripts and integrations, scoped to {org?.name ?? "this organisation"} and your role in it.
      </Text>
      {created && <NewToken token={created} onDone={() => setCreated(null)} />}
      <Card withBorder>
        <form onSubmit={form.onSubmit((v) => create.mutate(v))}>
          <Stack>
            <ApiErrorAlert error={create.error} title="Could not create the token" />
            <Group align="flex-end">
              <TextInput
                label="Token name"
                placeholder="e.g. Monthly report script"
                style={{ flex: 1 }}
                {...form.getInputProps("name")}
              />
              <Button type="submit" loading={create.isPending} data-testid="token-create">
                Create token
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <Card withBorder>
        <ApiErrorAlert error={tokens.error} />
        {tokens.data && tokens.data.length === 0 && (
          <Text c="dimmed" size="sm">
            You have no API tokens in this organisation.
          </Text>
        )}
        {tokens.data && tokens.data.length > 0 && (
          <Table data-testid="tokens-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Prefix</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th aria-label="Actions" />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {tokens.data.map((t) => (
                <Table.Tr key={t.id} data-testid={`token-${t.id}`}>
                  <Table.Td>{t.name}</Table.Td>
                  <Table.Td>
                    <Code>{t.prefix}…</Code>
                  </Table.Td>
                  <Table.Td>{formatDateTime(t.created_at)}</Table.Td>
                  <Table.Td>{t.last_used_at ? formatDateTime(t.last_used_at) : "Never"}</Table.Td>
                  <Table.Td>
                    <ActionIcon variant="subtle" color="red" aria-label={`Revoke ${t.name}`} onClick={() => confirmRevoke(t)}>
                      <IconTrash size={16} />
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
    </Stack>
  );
}
