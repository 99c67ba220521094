import { Alert, Anchor, Loader, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { client, unwrap } from "../api/client";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { AuthLayout } from "./AuthLayout";

export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  // A query (not a mutation) so that the token is sent once per page, even under StrictMode.
  const verify = useQuery({
    queryKey: ["verify-email", token],
    queryFn: () => unwrap(client.POST("/api/auth/email/verify", { body: { token } })),
    enabled: !!token,
    retry: false,
    staleTime: Infinity,
  });
  return (
    <AuthLayout title="Verify your email">
      {!token ? (
        <Alert color="red" title="Incomplete link">
          This verification link has no token. Open the link from the email again.
        </Alert>
      ) : verify.isPending ? (
        <Loader mx="auto" />
      ) : verify.isError ? (
        <ApiErrorAlert error={verify.error} title="Could not verify your email" />
      ) : (
        <Alert color="green" title="Email verified" data-testid="verify-done">
          Thank you: your email address is confirmed.
        </Alert>
      )}
      <Text size="sm">
        <Anchor component={Link} to="/">
          Go to Dalgo
        </Anchor>
      </Text>
    </AuthLayout>
  );
}
