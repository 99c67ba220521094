import { Anchor, Button, Group, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearchParams } from "react-router";
import { client, unwrap } from "../api/client";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { useApiMutation } from "../app/useApiMutation";
import { AuthLayout, safeNext } from "./AuthLayout";

export function LoginPage() {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { email: "", password: "" } });
  const login = useApiMutation((body: typeof form.values) => unwrap(client.POST("/api/auth/login", { body })), {
    form,
    onSuccess: () => {
      queryClient.clear();
      navigate(next, { replace: true });
    },
  });
  return (
    <AuthLayout title="Log in" subtitle="Welcome back.">
      <form onSubmit={form.onSubmit((v) => login.mutate(v))}>
        <Stack>
          <ApiErrorAlert error={login.error} title="Could not log in" />
          <TextInput label="Email" type="email" autoComplete="email" required {...form.getInputProps("email")} />
          <PasswordInput label="Password" autoComplete="current-password" required {...form.getInputProps("password")} />
          <Group justify="space-between">
            <Anchor component={Link} to="/forgot-password" size="sm">
              Forgot password?
            </Anchor>
            <Button type="submit" loading={login.isPending} data-testid="login-submit">
              Log in
            </Button>
          </Group>
          <Text size="sm" c="dimmed">
            New to Dalgo?{" "}
            <Anchor component={Link} to={next === "/" ? "/signup" : `/signup?next=${encodeURIComponent(next)}`}>
              Create an account
            </Anchor>
          </Text>
        </Stack>
      </form>
    </AuthLayout>
  );
}
