import { ActionIcon, Badge, Button, Card, Group, Modal, NativeSelect, Stack, Table, Text, TextInput, Title, Tooltip } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useDisclosure } from "@mantine/hooks";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { IconMailForward, IconTrash, IconUserPlus, IconX } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { formatDate, formatDateTime, roleLabel } from "../app/format";
import { useCan, useConfig, useOrgSlug, useSession } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { assignableRoles } from "./roles";

type Member = Schemas["MemberOut"];
type Invitation = Schemas["InvitationOut"];

function useRoleOptions(): string[] {
  const config = useConfig();
  const { org } = useSession();
  return assignableRoles(config.data?.roles ?? [], org?.role);
}

function notifyError(e: unknown) {
  notifications.show({ color: "red", title: "That did not work", message: errorMessage(e) });
}

function InviteModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const slug = useOrgSlug();
  const roles = useRoleOptions();
  const form = useForm({ initialValues: { email: "", role: "member" } });
  const invite = useApiMutation(
    (body: typeof form.values) => unwrap(client.POST("/api/org/invitations", { body })),
    {
      form,
      invalidate: [["org", slug, "invitations"]],
      onSuccess: (inv) => {
        notifications.show({ color: "green", message: `Invitation sent to ${inv.email}.` });
        close();
      },
    },
  );
  const close = () => {
    form.reset();
    invite.reset();
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title="Invite someone">
      <form onSubmit={form.onSubmit((v) => invite.mutate(v))}>
        <Stack>
          <ApiErrorAlert error={invite.error} title="Could not invite" />
          <TextInput label="Email" type="email" required data-testid="invite-email" {...form.getInputProps("email")} />
          <NativeSelect
            label="Role"
            data-testid="invite-role"
            data={roles.map((r) => ({ value: r, label: roleLabel(r) }))}
            {...form.getInputProps("role")}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={invite.isPending} data-testid="invite-submit">
              Send invitation
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function MembersTable({ members }: { members: Member[] }) {
  const slug = useOrgSlug();
  const { me } = useSession();
  const canManage = useCan("member.manage");
  const roles = useRoleOptions();
  const key = ["org", slug, "members"];
  const changeRole = useApiMutation(
    (v: { userId: number; role: string }) =>
      unwrap(client.PATCH("/api/org/members/{user_id}", { params: { path: { user_id: v.userId } }, body: { role: v.role } })),
    { invalidate: [key] },
  );
  const remove = useApiMutation(
    (userId: number) => unwrap(client.DELETE("/api/org/members/{user_id}", { params: { path: { user_id: userId } } })),
    { invalidate: [key] },
  );
  const confirmRemove = (m: Member) =>
    modals.openConfirmModal({
      title: "Remove member",
      children: (
        <Text size="sm">
          Remove {m.name || m.email} from this organisation? They lose access at once; their API tokens for it stop
          working.
        </Text>
      ),
      labels: { confirm: "Remove", cancel: "Cancel" },
      confirmProps: { color: "red", "data-testid": "confirm-remove" } as never,
      onConfirm: () => remove.mutate(m.user_id, { onError: notifyError }),
    });

  return (
    <Table striped highlightOnHover data-testid="members-table">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Email</Table.Th>
          <Table.Th>Name</Table.Th>
          <Table.Th>Role</Table.Th>
          <Table.Th>Joined</Table.Th>
          {canManage && <Table.Th aria-label="Actions" />}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {members.map((m) => {
          const self = m.user_id === me.user.id;
          const editable = canManage && !self && roles.includes(m.role);
          return (
            <Table.Tr key={m.user_id} data-testid={`member-${m.email}`}>
              <Table.Td>{m.email}</Table.Td>
              <Table.Td>{m.name || "—"}</Table.Td>
              <Table.Td>
                {editable ? (
                  <NativeSelect
                    aria-label={`Role of ${m.email}`}
                    size="xs"
                    w={150}
                    value={m.role}
                    data={roles.map((r) => ({ value: r, label: roleLabel(r) }))}
                    onChange={(e) =>
                      changeRole.mutate({ userId: m.user_id, role: e.currentTarget.value }, { onError: notifyError })
                    }
                  />
                ) : (
                  <Badge variant="light">{roleLabel(m.role)}</Badge>
                )}
              </Table.Td>
              <Table.Td>{formatDate(m.joined_at)}</Table.Td>
              {canManage && (
                <Table.Td>
                  {editable && (
                    <Tooltip label="Remove from organisation">
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`Remove ${m.email}`}
                        onClick={() => confirmRemove(m)}
                      >
                        <IconTrash size={16} />
                      </ActionIcon>
                    </Tooltip>
                  )}
                </Table.Td>
              )}
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}

function InvitationsTable({ invitations }: { invitations: Invitation[] }) {
  const slug = useOrgSlug();
  const canInvite = useCan("member.invite");
  const key = ["org", slug, "invitations"];
  const resend = useApiMutation(
    (id: number) =>
      unwrap(client.POST("/api/org/invitations/{invitation_id}/resend", { params: { path: { invitation_id: id } } })),
    { invalidate: [key], onSuccess: (inv) => notifications.show({ message: `Invitation re-sent to ${inv.email}.` }) },
  );
  const revoke = useApiMutation(
    (id: number) =>
      unwrap(client.DELETE("/api/org/invitations/{invitation_id}", { params: { path: { invitation_id: id } } })),
    { invalidate: [key] },
  );
  if (invitations.length === 0) {
    return (
      <Text c="dimmed" size="sm" data-testid="invitations-table">
        No pending invitations.
      </Text>
    );
  }
  return (
    <Table striped data-testid="invitations-table">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Email</Table.Th>
          <Table.Th>Role</Table.Th>
          <Table.Th>Invited by</Table.Th>
          <Table.Th>Last sent</Table.Th>
          <Table.Th>Expires</Table.Th>
          {canInvite && <Table.Th aria-label="Actions" />}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {invitations.map((i) => (
          <Table.Tr key={i.id} data-testid={`invitation-${i.email}`}>
            <Table.Td>{i.email}</Table.Td>
            <Table.Td>{roleLabel(i.role)}</Table.Td>
            <Table.Td>{i.invited_by ?? "—"}</Table.Td>
            <Table.Td>
              {formatDateTime(i.last_sent_at)}
              {i.sent_count > 1 && (
                <Text span c="dimmed" size="xs">
                  {" "}
                  ({i.sent_count}×)
                </Text>
              )}
            </Table.Td>
            <Table.Td>
              {i.expired ? (
                <Badge color="red" variant="light">
                  Expired
                </Badge>
              ) : (
                formatDateTime(i.expires_at)
              )}
            </Table.Td>
            {canInvite && (
              <Table.Td>
                <Group gap={4} wrap="nowrap">
                  <Tooltip label="Resend (renews the link)">
                    <ActionIcon
                      variant="subtle"
                      aria-label={`Resend invitation to ${i.email}`}
                      loading={resend.isPending && resend.variables === i.id}
                      onClick={() => resend.mutate(i.id, { onError: notifyError })}
                    >
                      <IconMailForward size={16} />
                    </ActionIcon>
                  </Tooltip>
                  <Tooltip label="Revoke">
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={`Revoke invitation to ${i.email}`}
                      loading={revoke.isPending && revoke.variables === i.id}
                      onClick={() => revoke.mutate(i.id, { onError: notifyError })}
                    >
                      <IconX size={16} />
                    </ActionIcon>
                  </Tooltip>
                </Group>
              </Table.Td>
            )}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export function UsersPage() {
  const slug = useOrgSlug();
  const canInvite = useCan("member.invite");
  const [opened, { open, close }] = useDisclosure(false);
  const members = useQuery({
    queryKey: ["org", slug, "members"],
    queryFn: () => unwrap(client.GET("/api/org/members")),
  });
  const invitations = useQuery({
    queryKey: ["org", slug, "invitations"],
    queryFn: () => unwrap(client.GET("/api/org/invitations")),
  });
  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Title order={2}>Users</Title>
        {canInvite && (
          <Button leftSection={<IconUserPlus size={16} />} onClick={open} data-testid="invite-button">
            Invite
          </Button>
        )}
      </Group>
      <Card withBorder>
        <Title order={4} mb="sm">
          Members
        </Title>
        <ApiErrorAlert error={members.error} />
        {members.data && <MembersTable members={members.data} />}
      </Card>
      <Card withBorder>
        <Title order={4} mb="sm">
          Pending invitations
        </Title>
        <ApiErrorAlert error={invitations.error} />
        {invitations.data && <InvitationsTable invitations={invitations.data} />}
      </Card>
      {canInvite && <InviteModal opened={opened} onClose={close} />}
    </Stack>
  );
}
