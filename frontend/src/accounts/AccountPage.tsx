import { Alert, Badge, Button, Card, Group, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { client, unwrap } from "../api/client";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { meQueryKey, useSession } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";

/** Profile (name, email verification) and password change. */
export function AccountPage() {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const profile = useForm({ initialValues: { name: me.user.name } });
  const rename = useApiMutation((v: { name: string }) => unwrap(client.PATCH("/api/me", { body: v })), {
    form: profile,
    onSuccess: (newMe) => {
      queryClient.setQueryData(meQueryKey, newMe);
      notifications.show({ color: "green", message: "Your name has been saved." });
    },
  });
  const form = useForm({
    initialValues: { current_password: "", new_password: "", confirm: "" },
    validate: { confirm: (v, values) => (v !== values.new_password ? "The passwords do not match." : null) },
  });
  const change = useApiMutation(
    (v: typeof form.values) =>
      unwrap(
        client.POST("/api/auth/password/change", {
          body: { current_password: v.current_password, new_password: v.new_password },
        }),
      ),
    {
      form,
      onSuccess: () => {
        form.reset();
        notifications.show({ color: "green", message: "Your password has been changed." });
      },
    },
  );
  const resend = useApiMutation(() => unwrap(client.POST("/api/auth/email/resend")), {
    onSuccess: () => notifications.show({ message: `Verification email sent to ${me.user.email}.` }),
  });

  return (
    <Stack maw={560} gap="lg">
      <Title order={2}>Your account</Title>
      <Card withBorder>
        <Stack gap="xs">
          <form onSubmit={profile.onSubmit((v) => rename.mutate(v))}>
            <Group align="flex-end">
              <TextInput label="Name" {...profile.getInputProps("name")} style={{ flex: 1 }} />
              <Button type="submit" variant="light" loading={rename.isPending} data-testid="profile-save">
                Save
              </Button>
            </Group>
          </form>
          <ApiErrorAlert error={rename.error} />
          <Group>
            <Text fw={500} w={80}>
              Email
            </Text>
            <Text>{me.user.email}</Text>
            {me.user.email_verified ? (
              <Badge color="green" variant="light">
                Verified
              </Badge>
            ) : (
              <Badge color="yellow" variant="light">
                Not verified
              </Badge>
            )}
          </Group>
          {!me.user.email_verified && (
            <Alert color="yellow" variant="light">
              <Group justify="space-between">
                <Text size="sm">Confirm your email address to receive alerts and password resets.</Text>
                <Button size="xs" variant="light" loading={resend.isPending} onClick={() => resend.mutate()}>
                  Resend email
                </Button>
              </Group>
            </Alert>
          )}
          <ApiErrorAlert error={resend.error} />
        </Stack>
      </Card>
      <Card withBorder>
        <Title order={4} mb="sm">
          Change password
        </Title>
        <form onSubmit={form.onSubmit((v) => change.mutate(v))}>
          <Stack>
            <ApiErrorAlert error={change.error} title="Could not change the password" />
            <PasswordInput label="Current password" autoComplete="current-password" required {...form.getInputProps("current_password")} />
            <PasswordInput label="New password" autoComplete="new-password" required {...form.getInputProps("new_password")} />
            <PasswordInput label="Confirm new password" autoComplete="new-password" required {...form.getInputProps("confirm")} />
            <Group justify="flex-end">
              <Button type="submit" loading={change.isPending} data-testid="password-submit">
                Change password
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
    </Stack>
  );
}
