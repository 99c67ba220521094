import { Button, Group } from "@mantine/core";
import type { ReactNode } from "react";
import { ApiErrorAlert } from "./ApiErrorAlert";

/** The end of a confirmation modal for something that cannot be undone: the API error if the last try
 * failed, then Cancel and the red confirm button. */
export function DangerFooter({
  error,
  errorTitle = "Could not delete",
  onCancel,
  onConfirm,
  loading,
  disabled,
  testId,
  children = "Delete",
}: {
  error: unknown;
  errorTitle?: string;
  onCancel: () => void;
  onConfirm: () => void;
  loading: boolean;
  disabled?: boolean;
  testId: string;
  children?: ReactNode;
}) {
  return (
    <>
      <ApiErrorAlert error={error} title={errorTitle} />
      <Group justify="flex-end">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        <Button color="red" loading={loading} disabled={disabled} onClick={onConfirm} data-testid={testId}>
          {children}
        </Button>
      </Group>
    </>
  );
}
