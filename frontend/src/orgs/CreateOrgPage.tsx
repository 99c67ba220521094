import { Alert, Button, Card, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { client, unwrap } from "../api/client";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { meQueryKey, useConfig, useSession } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";

/** Shown to a signed-in user who belongs to no org (and at /create-org). */
export function CreateOrgPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { me, switchOrg } = useSession();
  const config = useConfig();
  const closed = config.data && !config.data.signup_creates_orgs && !me.user.is_platform_admin;
  const form = useForm({ initialValues: { name: "" } });
  const create = useApiMutation((body: typeof form.values) => unwrap(client.POST("/api/orgs", { body })), {
    form,
    onSuccess: async (org) => {
      await queryClient.invalidateQueries({ queryKey: meQueryKey });
      switchOrg(org.slug);
      navigate("/");
    },
  });
  return (
    <Stack maw={520} gap="lg" data-testid="create-org">
      <Title order={2}>Create an organisation</Title>
      <Text c="dimmed">
        An organisation holds your warehouse, sources, pipelines, charts and dashboards, and the colleagues you
        invite. If a colleague already set one up, ask them for an invitation instead.
      </Text>
      {closed ? (
        <Alert color="blue" variant="light" title="Ask for an invitation" data-testid="org-creation-closed">
          On this Dalgo deployment organisations are created by the platform operator. Ask your organisation's
          admin to invite {me.user.email}.
        </Alert>
      ) : (
      <Card withBorder>
        <form onSubmit={form.onSubmit((v) => create.mutate(v))}>
          <Stack>
            <ApiErrorAlert error={create.error} title="Could not create the organisation" />
            <TextInput label="Organisation name" required {...form.getInputProps("name")} />
            <Button type="submit" loading={create.isPending} data-testid="create-org-submit">
              Create organisation
            </Button>
          </Stack>
        </form>
      </Card>
      )}
    </Stack>
  );
}
