import { Alert, Anchor, Button, PasswordInput, Stack, Text } from "@mantine/core";
import { useForm } from "@mantine/form";
import { Link, useSearchParams } from "react-router";
import { client, unwrap } from "../api/client";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { useApiMutation } from "../app/useApiMutation";
import { AuthLayout } from "./AuthLayout";

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const uid = params.get("uid") ?? "";
  const token = params.get("token") ?? "";
  const form = useForm({
    initialValues: { new_password: "", confirm: "" },
    validate: { confirm: (v, values) => (v !== values.new_password ? "The passwords do not match." : null) },
  });
  const reset = useApiMutation(
    (v: typeof form.values) =>
      unwrap(client.POST("/api/auth/password/reset", { body: { uid, token, new_password: v.new_password } })),
    { form },
  );
  return (
    <AuthLayout title="Choose a new password">
      {!uid || !token ? (
        <Alert color="red" title="Incomplete link">
          This reset link is missing its parts. Open the link from the email again, or ask for a new one.
        </Alert>
      ) : reset.isSuccess ? (
        <Alert color="green" title="Password changed" data-testid="reset-done">
          Your password has been changed. You can now log in with it.
        </Alert>
      ) : (
        <form onSubmit={form.onSubmit((v) => reset.mutate(v))}>
          <Stack>
            <ApiErrorAlert error={reset.error} title="Could not reset the password" />
            <PasswordInput label="New password" autoComplete="new-password" required {...form.getInputProps("new_password")} />
            <PasswordInput label="Confirm new password" autoComplete="new-password" required {...form.getInputProps("confirm")} />
            <Button type="submit" loading={reset.isPending} data-testid="reset-submit">
              Change password
            </Button>
          </Stack>
        </form>
      )}
      <Text size="sm">
        <Anchor component={Link} to="/login">
          Log in
        </Anchor>{" "}
        ·{" "}
        <Anchor component={Link} to="/forgot-password">
          Request a new link
        </Anchor>
      </Text>
    </AuthLayout>
  );
}
