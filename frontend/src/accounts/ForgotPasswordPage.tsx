import { Alert, Anchor, Button, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { Link } from "react-router";
import { client, unwrap } from "../api/client";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { useApiMutation } from "../app/useApiMutation";
import { AuthLayout } from "./AuthLayout";

export function ForgotPasswordPage() {
  const form = useForm({ initialValues: { email: "" } });
  const forgot = useApiMutation((body: typeof form.values) => unwrap(client.POST("/api/auth/password/forgot", { body })), {
    form,
  });
  return (
    <AuthLayout title="Forgot your password?" subtitle="We will email you a link to choose a new one.">
      {forgot.isSuccess ? (
        <Alert color="green" title="Check your email" data-testid="forgot-sent">
          If an account exists for {form.values.email}, a reset link is on its way. It expires in a few hours.
        </Alert>
      ) : (
        <form onSubmit={form.onSubmit((v) => forgot.mutate(v))}>
          <Stack>
            <ApiErrorAlert error={forgot.error} />
            <TextInput label="Email" type="email" autoComplete="email" required {...form.getInputProps("email")} />
            <Button type="submit" loading={forgot.isPending} data-testid="forgot-submit">
              Send reset link
            </Button>
          </Stack>
        </form>
      )}
      <Text size="sm">
        <Anchor component={Link} to="/login">
          Back to log in
        </Anchor>
      </Text>
    </AuthLayout>
  );
}
