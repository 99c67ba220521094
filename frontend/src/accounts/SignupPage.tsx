import { Alert, Anchor, Button, Loader, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearchParams } from "react-router";
import { client, unwrap } from "../api/client";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { meQueryKey, useConfig } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { AuthLayout, safeNext } from "./AuthLayout";

export function SignupPage() {
  const config = useConfig();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { email: "", name: "", password: "", org_name: "" } });
  const withOrg = !!config.data?.signup_creates_orgs;
  const signup = useApiMutation(
    (v: typeof form.values) =>
      unwrap(
        client.POST("/api/auth/signup", {
          body: { email: v.email, name: v.name, password: v.password, org_name: withOrg ? v.org_name : null },
        }),
      ),
    {
      form,
      onSuccess: (me) => {
        queryClient.clear();
        queryClient.setQueryData(meQueryKey, me);
        navigate(next, { replace: true });
      },
    },
  );

  return (
    <AuthLayout title="Create your account" subtitle="Set up Dalgo for your organisation in a minute.">
      {config.isPending ? (
        <Loader mx="auto" />
      ) : config.data && !config.data.signup_enabled ? (
        <Alert color="yellow" title="Sign-up is closed">
          This Dalgo deployment does not accept new sign-ups. Ask your organisation's admin for an invitation.
        </Alert>
      ) : (
        <form onSubmit={form.onSubmit((v) => signup.mutate(v))}>
          <Stack>
            <ApiErrorAlert error={signup.error} title="Could not sign up" />
            <TextInput label="Email" type="email" autoComplete="email" required {...form.getInputProps("email")} />
            <TextInput label="Your name" autoComplete="name" {...form.getInputProps("name")} />
            <PasswordInput
              label="Password"
              autoComplete="new-password"
              description="A long password that is not a common one."
              required
              {...form.getInputProps("password")}
            />
            {withOrg && (
              <TextInput
                label="Organisation name"
                description="Your NGO's name; you can invite colleagues later."
                required
                {...form.getInputProps("org_name")}
              />
            )}
            <Button type="submit" loading={signup.isPending} data-testid="signup-submit">
              Sign up
            </Button>
          </Stack>
        </form>
      )}
      <Text size="sm" c="dimmed">
        Already have an account?{" "}
        <Anchor component={Link} to="/login">
          Log in
        </Anchor>
      </Text>
    </AuthLayout>
  );
}
