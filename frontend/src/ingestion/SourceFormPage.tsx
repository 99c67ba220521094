import { Anchor, Badge, Breadcrumbs, Button, Card, Center, Group, Loader, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { IconArrowLeft, IconExternalLink, IconPlugConnected, IconPlus, IconTrash } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { isApiError } from "../api/errors";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { formatDateTime } from "../app/format";
import { JsonSchemaForm, SECRET_MASK, type JsonSchemaFormHandle } from "../app/JsonSchemaForm";
import { useCan, useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { specToForm } from "./airbyteSpec";
import { ingestApi, ingestKeys, type ConnectorSpec, type Source } from "./api";
import { ConnectorCatalogue, useConnectors } from "./ConnectorCatalogue";
import { ConnectionLinks } from "./ConnectionParts";
import { CheckResultAlert, DeleteSourceModal, LastCheckBadge } from "./SourceParts";
import { SourceStreamsCard } from "./SourceStreams";

function Crumbs({ current }: { current: string }) {
  return (
    <Breadcrumbs>
      <Anchor component={Link} to="/ingest">
        Sources
      </Anchor>
      <Text>{current}</Text>
    </Breadcrumbs>
  );
}

/** The connector's spec; the first request installs the connector, which may take half a minute. */
function useSpec(connector: string) {
  const slug = useOrgSlug();
  return useQuery({
    queryKey: ingestKeys.spec(slug, connector),
    queryFn: () => ingestApi.spec(connector),
    staleTime: Infinity,
    retry: false,
  });
}

/** /ingest/sources/new: step 1 pick a connector (`?connector=<slug>`), step 2 fill in its generated form. */
export function NewSourcePage() {
  const [params, setParams] = useSearchParams();
  const connector = params.get("connector");
  const connectors = useConnectors();
  const name = connectors.data?.find((c) => c.slug === connector)?.name ?? connector ?? "";

  return (
    <Stack gap="lg" data-testid="page-source-new">
      <Crumbs current="New source" />
      {!connector ? (
        <>
          <div>
            <Title order={2}>New source</Title>
            <Text c="dimmed">Step 1 of 2: pick the connector for the system your data lives in.</Text>
          </div>
          <ConnectorCatalogue onPick={(c) => setParams({ connector: c.slug })} />
        </>
      ) : (
        <>
          <Group justify="space-between">
            <div>
              <Title order={2}>New {name} source</Title>
              <Text c="dimmed">Step 2 of 2: connection settings.</Text>
            </div>
            <Button variant="default" leftSection={<IconArrowLeft size={16} />} onClick={() => setParams({})} data-testid="source-change-connector">
              Other connector
            </Button>
          </Group>
          <SourceEditor key={connector} connector={connector} connectorName={name} />
        </>
      )}
    </Stack>
  );
}

/** Loads the connector's spec (installing it the first time), then shows the source form. */
function SourceEditor({ connector, connectorName, source }: { connector: string; connectorName: string; source?: Source }) {
  const spec = useSpec(connector);
  if (spec.isPending) {
    return (
      <Card withBorder padding="xl" data-testid="spec-loading">
        <Center>
          <Stack align="center" gap="xs">
            <Loader />
            <Text>Installing the {connectorName || connector} connector…</Text>
            <Text size="sm" c="dimmed">
              The first time a connector is used this can take up to half a minute.
            </Text>
          </Stack>
        </Center>
      </Card>
    );
  }
  if (spec.error) {
    return (
      <Stack>
        <ApiErrorAlert error={spec.error} title={`Could not load the ${connectorName || connector} connector`} />
        <Group>
          <Button variant="default" loading={spec.isFetching} onClick={() => void spec.refetch()} data-testid="spec-retry">
            Try again
          </Button>
        </Group>
      </Stack>
    );
  }

  return <SourceForm connector={connector} spec={spec.data} source={source} />;
}

/** Name + the connector's generated settings form, Check connection and Save (create or update). */
function SourceForm({ connector, spec, source }: { connector: string; spec: ConnectorSpec; source?: Source }) {
  const slug = useOrgSlug();
  const navigate = useNavigate();
  const generated = useMemo(() => specToForm(spec.spec, spec.secret_paths), [spec]);
  const [config, setConfig] = useState<Record<string, unknown>>(source?.config ?? {});
  const form = useForm({ initialValues: { name: source?.name ?? spec.name } });
  const configForm = useRef<JsonSchemaFormHandle>(null);

  const check = useApiMutation(ingestApi.check, { form });
  const save = useApiMutation(
    (body: { name: string; config: Record<string, unknown> }) =>
      source ? ingestApi.update({ id: source.id, ...body }) : ingestApi.create({ connector, ...body }),
    {
      form,
      invalidate: source ? [ingestKeys.sources(slug), ingestKeys.source(slug, source.id)] : [ingestKeys.sources(slug)],
      onSuccess: (saved) => {
        notifications.show({ color: "green", message: `Source "${saved.name}" saved.` });
        navigate("/ingest");
      },
    },
  );
  const lastError = save.error ?? check.error;
  const fieldErrors = isApiError(lastError) ? lastError.fields : undefined;

  const run = (which: "check" | "save") => {
    const name = form.values.name.trim();
    if (!name) form.setFieldError("name", "Give the source a name.");
    const configOk = configForm.current?.validate() ?? true;
    if (!name || !configOk) return;
    check.reset();
    save.reset();
    if (which === "check") check.mutate({ connector, config, ...(source ? { source_id: source.id } : {}) });
    else save.mutate({ name, config });
  };

  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            {spec.package} {spec.version}
          </Text>
          {spec.documentation_url && (
            <Anchor href={spec.documentation_url} target="_blank" rel="noreferrer" size="sm">
              <Group gap={4}>
                Set-up guide <IconExternalLink size={14} />
              </Group>
            </Anchor>
          )}
        </Group>
        <TextInput label="Name" required data-testid="source-name" {...form.getInputProps("name")} />
        <JsonSchemaForm
          ref={configForm}
          schema={generated.schema}
          uiSchema={generated.uiSchema}
          formData={config}
          onChange={setConfig}
          fieldErrors={fieldErrors}
          errorPrefix="config."
          disabled={save.isPending}
        />
        <ApiErrorAlert error={lastError} title={save.error ? "Could not save the source" : "Could not check the connection"} />
        {check.data && <CheckResultAlert result={check.data} testId="source-check-result" />}
        <Group justify="flex-end">
          <Button variant="default" component={Link} to="/ingest">
            Cancel
          </Button>
          <Button
            variant="default"
            leftSection={<IconPlugConnected size={16} />}
            loading={check.isPending}
            disabled={save.isPending}
            onClick={() => run("check")}
            data-testid="source-check"
          >
            Check connection
          </Button>
          <Button loading={save.isPending} disabled={check.isPending} onClick={() => run("save")} data-testid="source-save">
            Save
          </Button>
        </Group>
        <Text size="xs" c="dimmed">
          Saving checks the connection first; secrets are stored encrypted and never shown again.
        </Text>
      </Stack>
    </Card>
  );
}

/** The saved settings as a read-only table (roles without source.edit). */
function SourceDetails({ source }: { source: Source }) {
  const rows: [string, unknown][] = [];
  const flatten = (value: unknown, path: string) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k);
    } else rows.push([path, value]);
  };
  flatten(source.config, "");
  const show = (value: unknown) => {
    if (value === SECRET_MASK) return <Badge variant="light">set</Badge>;
    if (value == null || value === "") return "—";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  };
  return (
    <Card withBorder data-testid="source-details">
      <Title order={4} mb="sm">
        Settings
      </Title>
      <Table>
        <Table.Tbody>
          {rows.map(([key, value]) => (
            <Table.Tr key={key}>
              <Table.Td w={260} c="dimmed">
                {key}
              </Table.Td>
              <Table.Td style={{ wordBreak: "break-all" }}>{show(value)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed" mt="sm">
        Only admins can change sources.
      </Text>
    </Card>
  );
}

/** Check of the saved source (any role that may view sources). */
function SavedCheck({ source }: { source: Source }) {
  const slug = useOrgSlug();
  const check = useApiMutation(ingestApi.checkSaved, {
    invalidate: [ingestKeys.sources(slug), ingestKeys.source(slug, source.id)],
  });
  return (
    <Card withBorder data-testid="source-status">
      <Group justify="space-between">
        <Group gap="xs">
          <Text size="sm" c="dimmed">
            Last check:
          </Text>
          <LastCheckBadge source={source} />
          {source.last_checked_at && <Text size="sm">{formatDateTime(source.last_checked_at)}</Text>}
        </Group>
        <Button
          variant="default"
          leftSection={<IconPlugConnected size={16} />}
          loading={check.isPending}
          onClick={() => check.mutate(source.id)}
          data-testid="source-check"
        >
          Check connection
        </Button>
      </Group>
      <Stack mt="sm" gap="xs">
        <ApiErrorAlert error={check.error} title="Could not check the connection" />
        {check.data && <CheckResultAlert result={check.data} testId="source-check-result" />}
      </Stack>
    </Card>
  );
}

/** The connections that read from the source, and New connection (connection.edit). */
function SourceConnections({ source }: { source: Source }) {
  const canEdit = useCan("connection.edit");
  return (
    <Card withBorder data-testid="source-connections">
      <Group justify="space-between" mb="sm">
        <div>
          <Title order={4}>Connections</Title>
          <Text size="sm" c="dimmed">
            Connections sync this source's streams into the warehouse.
          </Text>
        </div>
        {canEdit && (
          <Button
            variant="default"
            leftSection={<IconPlus size={16} />}
            component={Link}
            to={`/ingest/connections/new?source=${source.id}`}
            data-testid="source-new-connection"
          >
            New connection
          </Button>
        )}
      </Group>
      {source.connections.length ? (
        <ConnectionLinks connections={source.connections} />
      ) : (
        <Text size="sm" c="dimmed">
          No connection uses this source yet.
        </Text>
      )}
    </Card>
  );
}

/** /ingest/sources/:id: the source's form prefilled (secrets "unchanged"), or read-only without source.edit. */
export function EditSourcePage() {
  const slug = useOrgSlug();
  const navigate = useNavigate();
  const canEdit = useCan("source.edit");
  const canSeeConnections = useCan("connection.view");
  const id = Number(useParams().id);
  const [deleting, setDeleting] = useState(false);
  const source = useQuery({
    queryKey: ingestKeys.source(slug, id),
    queryFn: () => ingestApi.source(id),
    enabled: Number.isInteger(id),
  });
  const s = source.data;

  return (
    <Stack gap="lg" data-testid="page-source-edit">
      <Crumbs current={s?.name ?? "Source"} />
      {source.isPending && <Loader />}
      <ApiErrorAlert error={source.error} />
      {s && (
        <>
          <Group justify="space-between">
            <div>
              <Title order={2}>{s.name}</Title>
              <Group gap="xs">
                <Text c="dimmed">
                  {s.connector_name} · {s.package} {s.version}
                </Text>
                {canEdit && <LastCheckBadge source={s} />}
              </Group>
            </div>
            {canEdit && (
              <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={() => setDeleting(true)} data-testid="source-delete">
                Delete
              </Button>
            )}
          </Group>
          {canEdit ? (
            <SourceEditor key={`${s.id}:${s.updated_at}`} connector={s.connector_slug} connectorName={s.connector_name} source={s} />
          ) : (
            <>
              <SavedCheck source={s} />
              <SourceDetails source={s} />
            </>
          )}
          {canSeeConnections && <SourceConnections source={s} />}
          <SourceStreamsCard key={s.id} source={s} />
          {canEdit && (
            <DeleteSourceModal source={deleting ? s : null} onClose={() => setDeleting(false)} onDeleted={() => navigate("/ingest")} />
          )}
        </>
      )}
    </Stack>
  );
}
