import { Alert, Anchor, Badge, List, Modal, Stack, Text, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconCircleCheck, IconCircleX } from "@tabler/icons-react";
import { Link } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { isApiError } from "../api/errors";
import { DangerFooter } from "../app/DangerFooter";
import { formatDateTime } from "../app/format";
import { useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { ingestApi, ingestKeys, type CheckResult, type Source } from "./api";

/** The result of a connection check. */
export function CheckResultAlert({ result, testId }: { result: CheckResult; testId: string }) {
  return (
    <Alert
      color={result.ok ? "green" : "red"}
      variant="light"
      icon={result.ok ? <IconCircleCheck size={18} /> : <IconCircleX size={18} />}
      title={result.ok ? "Connection works" : "Connection failed"}
      data-testid={testId}
      data-ok={result.ok}
    >
      <Text size="sm" style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
        {result.message}
      </Text>
    </Alert>
  );
}

/** "ok" / "failed" / "never checked", with the message and time as a tooltip. */
export function LastCheckBadge({ source }: { source: Source }) {
  if (source.last_check_ok == null) {
    return (
      <Badge color="gray" variant="light" data-testid={`source-last-check-${source.id}`}>
        never checked
      </Badge>
    );
  }
  const label = `${formatDateTime(source.last_checked_at)}${source.last_check_message ? `: ${source.last_check_message}` : ""}`;
  return (
    <Tooltip label={label} multiline maw={360} withArrow>
      <Badge color={source.last_check_ok ? "green" : "red"} variant="light" data-testid={`source-last-check-${source.id}`}>
        {source.last_check_ok ? "ok" : "failed"}
      </Badge>
    </Tooltip>
  );
}

/** Confirms and deletes a source; one that connections use cannot go: they are listed, with links, to delete first. */
export function DeleteSourceModal({ source, onClose, onDeleted }: { source: Source | null; onClose: () => void; onDeleted?: () => void }) {
  const slug = useOrgSlug();
  const queryClient = useQueryClient();
  const remove = useApiMutation(ingestApi.remove, {
    invalidate: [ingestKeys.sources(slug)],
    onSuccess: () => {
      notifications.show({ message: `Source "${source?.name}" deleted.` });
      close();
      onDeleted?.();
    },
  });
  const close = () => {
    remove.reset();
    onClose();
  };
  const inUse = source?.connections ?? [];
  return (
    <Modal opened={!!source} onClose={close} title="Delete the source">
      <Stack>
        <Text size="sm">
          Dalgo forgets <b>{source?.name}</b> and its stored credentials. Data already loaded into the warehouse is not
          touched.
        </Text>
        {inUse.length > 0 && (
          <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="Connections use this source" data-testid="source-dependents">
            <Text size="sm" mb={4}>
              Delete {inUse.length === 1 ? "this connection" : "these connections"} first:
            </Text>
            <List size="sm">
              {inUse.map((c) => (
                <List.Item key={c.id}>
                  <Anchor component={Link} to={`/ingest/connections/${c.id}`} size="sm" onClick={close} data-testid={`source-dependent-${c.id}`}>
                    {c.name}
                  </Anchor>
                </List.Item>
              ))}
            </List>
          </Alert>
        )}
        <DangerFooter
          error={remove.error}
          onCancel={close}
          onConfirm={() =>
            source &&
            remove.mutate(source.id, {
              // Connections were added meanwhile: refetch to list them.
              onError: (e) => {
                if (isApiError(e) && e.code === "source_in_use") {
                  void queryClient.invalidateQueries({ queryKey: ingestKeys.sources(slug) });
                  void queryClient.invalidateQueries({ queryKey: ingestKeys.source(slug, source.id) });
                }
              },
            })
          }
          loading={remove.isPending}
          disabled={inUse.length > 0}
          testId="source-delete-submit"
        />
      </Stack>
    </Modal>
  );
}
