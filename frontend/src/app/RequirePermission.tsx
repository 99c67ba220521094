import { Alert } from "@mantine/core";
import type { ReactNode } from "react";
import { useCan } from "./session";

/** Renders children only when the current role grants the permission. */
export function RequirePermission({ permission, children }: { permission: string; children: ReactNode }) {
  const allowed = useCan(permission);
  if (!allowed) {
    return (
      <Alert color="gray" title="Not available for your role" data-testid="forbidden">
        Your role in this organisation does not include access to this page. Ask an admin if you need it.
      </Alert>
    );
  }
  return <>{children}</>;
}
