import { Alert, Anchor, Button, Loader, PasswordInput, Stack, Table, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import { client, storeOrg, unwrap } from "../api/client";
import { isApiError } from "../api/errors";
import { AuthLayout } from "../accounts/AuthLayout";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { formatDateTime, roleLabel } from "../app/format";
import { meQueryKey } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";

function invalidTitle(error: unknown): string {
  if (isApiError(error) && error.status === 410) return "This invitation can no longer be used";
  if (isApiError(error) && error.status === 404) return "This invitation link is not valid";
  return "Could not open the invitation";
}

export function AcceptInvitationPage() {
  const { token = "" } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const invitation = useQuery({
    queryKey: ["invitation", token],
    queryFn: () => unwrap(client.GET("/api/invitations/{token}", { params: { path: { token } } })),
    retry: false,
  });
  const me = useQuery({
    queryKey: meQueryKey,
    queryFn: () => unwrap(client.GET("/api/me")),
    retry: false,
  });
  const form = useForm({ initialValues: { name: "", password: "" } });
  const accept = useApiMutation(
    (v: { name: string; password: string | null }) =>
      unwrap(client.POST("/api/invitations/{token}/accept", { params: { path: { token } }, body: v })),
    {
      form,
      onSuccess: (newMe) => {
        storeOrg(newMe.joined_org);
        queryClient.clear();
        queryClient.setQueryData(meQueryKey, newMe);
        navigate("/", { replace: true });
      },
    },
  );

  if (invitation.isPending || me.isPending) {
    return (
      <AuthLayout title="Invitation">
        <Loader mx="auto" />
      </AuthLayout>
    );
  }
  if (invitation.isError) {
    return (
      <AuthLayout title="Invitation">
        <ApiErrorAlert error={invitation.error} title={invalidTitle(invitation.error)} />
        <Text size="sm">
          Ask the person who invited you to send a new invitation.{" "}
          <Anchor component={Link} to="/login">
            Log in
          </Anchor>
        </Text>
      </AuthLayout>
    );
  }

  const inv = invitation.data;
  const loggedIn = me.isSuccess;
  const next = `/invite/${encodeURIComponent(token)}`;
  return (
    <AuthLayout title={`Join ${inv.org_name}`} subtitle={`${inv.invited_by ?? "Someone"} invited you to Dalgo.`}>
      <Table data-testid="invitation-details">
        <Table.Tbody>
          <Table.Tr>
            <Table.Th>Organisation</Table.Th>
            <Table.Td>{inv.org_name}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Role</Table.Th>
            <Table.Td>{roleLabel(inv.role)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Invited by</Table.Th>
            <Table.Td>{inv.invited_by ?? "—"}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>For</Table.Th>
            <Table.Td>{inv.email}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Expires</Table.Th>
            <Table.Td>{formatDateTime(inv.expires_at)}</Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
      <ApiErrorAlert error={accept.error} title="Could not accept the invitation" />
      {loggedIn ? (
        <Stack>
          {me.data.user.email.toLowerCase() !== inv.email.toLowerCase() && (
            <Alert color="yellow" variant="light">
              You are logged in as {me.data.user.email}, but this invitation was sent to {inv.email}.
            </Alert>
          )}
          <Button loading={accept.isPending} onClick={() => accept.mutate({ name: "", password: null })} data-testid="accept-submit">
            Accept invitation
          </Button>
        </Stack>
      ) : inv.user_exists ? (
        <Alert color="blue" variant="light" title="You already have an account">
          <Text size="sm">
            <Anchor component={Link} to={`/login?next=${encodeURIComponent(next)}`} data-testid="invite-login">
              Log in as {inv.email}
            </Anchor>{" "}
            to accept this invitation.
          </Text>
        </Alert>
      ) : (
        <form onSubmit={form.onSubmit((v) => accept.mutate(v))}>
          <Stack>
            <Text size="sm" c="dimmed">
              Create your account to join.
            </Text>
            <TextInput label="Your name" autoComplete="name" {...form.getInputProps("name")} />
            <PasswordInput label="Password" autoComplete="new-password" required {...form.getInputProps("password")} />
            <Button type="submit" loading={accept.isPending} data-testid="accept-submit">
              Create account and join
            </Button>
          </Stack>
        </form>
      )}
    </AuthLayout>
  );
}
