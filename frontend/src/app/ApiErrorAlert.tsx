import { Alert } from "@mantine/core";
import { IconAlertCircle } from "@tabler/icons-react";
import { errorMessage } from "../api/errors";

/** Shows an API error's `detail` (field reasons are shown under their inputs). */
export function ApiErrorAlert({ error, title = "Something went wrong" }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" variant="light" title={title} icon={<IconAlertCircle size={18} />} role="alert" data-testid="api-error">
      {errorMessage(error)}
    </Alert>
  );
}
