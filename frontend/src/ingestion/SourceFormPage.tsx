import { Alert, Anchor, Badge, Breadcrumbs, Button, Card, Center, Group, Loader, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { IconArrowLeft, IconDownload, IconExternalLink, IconInfoCircle, IconPlugConnected, IconPlus, IconTrash } from "@tabler/icons-react";
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
import { CUSTOM_CONNECTOR, ingestApi, ingestKeys, type ConnectorSpec, type Source } from "./api";
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

/**
 * The connector's spec; the first request installs the connector, which may take half a minute (a custom one, named
 * by its pip requirement or path `pkg`, a minute). A custom connector without a package is not fetched.
 */
function useSpec(connector: string, pkg?: string) {
  const slug = useOrgSlug();
  const custom = connector === CUSTOM_CONNECTOR;
  return useQuery({
    queryKey: ingestKeys.spec(slug, connector, custom ? pkg : undefined),
    queryFn: () => ingestApi.spec(connector, custom ? pkg : undefined),
    enabled: !custom || !!pkg,
    staleTime: Infinity,
    retry: false,
  });
}

/**
 * /ingest/sources/new: step 1 pick a connector (`?connector=<slug>`), step 2 fill in its generated form. A custom
 * connector (`?connector=custom`) first asks for its package or path (`&package=` once loaded).
 */
export function NewSourcePage() {
  const [params, setParams] = useSearchParams();
  const connector = params.get("connector");
  const custom = connector === CUSTOM_CONNECTOR;
  const pkg = custom ? (params.get("package") ?? "").trim() : "";
  const connectors = useConnectors();
  const name = custom ? "custom" : (connectors.data?.find((c) => c.slug === connector)?.name ?? connector ?? "");

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
              <Text c="dimmed">
                {custom ? "Step 2 of 2: the connector's package or path, then its settings." : "Step 2 of 2: connection settings."}
              </Text>
            </div>
            <Button variant="default" leftSection={<IconArrowLeft size={16} />} onClick={() => setParams({})} data-testid="source-change-connector">
              Other connector
            </Button>
          </Group>
          {custom ? (
            <CustomSourceEditor pkg={pkg} onLoad={(next) => setParams({ connector: CUSTOM_CONNECTOR, package: next })} />
          ) : (
            <SourceEditor key={connector} connector={connector} connectorName={name} />
          )}
        </>
      )}
    </Stack>
  );
}

/**
 * A custom connector's package or path, Load connector, then the usual generated form for the loaded `pkg`. New
 * source: `pkg` is in the URL. Saved `source`: prefilled with its package; loading another one regenerates the form
 * from the new spec and Save sends the new `package` (the server installs it, validates and checks the config).
 */
function CustomSourceEditor({ pkg, onLoad, source }: { pkg: string; onLoad: (pkg: string) => void; source?: Source }) {
  const [value, setValue] = useState(pkg);
  const [missing, setMissing] = useState(false);
  // A `package` field error of the last Check connection / Save (e.g. the install of a new package failed).
  const [submitError, setSubmitError] = useState<string | undefined>();
  const spec = useSpec(CUSTOM_CONNECTOR, pkg);
  const fieldError = (isApiError(spec.error) ? spec.error.fields.package : undefined) ?? submitError;
  const switching = !!source && pkg !== source.package;

  const load = () => {
    const next = value.trim();
    setMissing(!next);
    setSubmitError(undefined);
    if (!next) return;
    if (next === pkg) void spec.refetch();
    else onLoad(next);
  };

  return (
    <Stack>
      <Card withBorder>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            load();
          }}
        >
          <Stack>
            <TextInput
              label="Package or path"
              description={
                source
                  ? "To use another version or package, change it and Load connector: the settings form follows the new connector, and Save installs it for this source."
                  : "A pip requirement (e.g. airbyte-source-foo==1.2.3 or git+https://…) or a local path to a connector that speaks the Airbyte protocol."
              }
              placeholder="airbyte-source-foo==1.2.3"
              withAsterisk
              value={value}
              onChange={(e) => {
                setValue(e.currentTarget.value);
                setMissing(false);
                setSubmitError(undefined);
              }}
              error={missing ? "Give a pip requirement or a local path." : fieldError}
              data-testid="custom-package"
              autoFocus={!pkg}
            />
            {switching && (
              <Alert color="blue" variant="light" icon={<IconInfoCircle size={18} />} data-testid="custom-package-changed">
                Saving switches this source from {source.package} to {pkg}; its streams are discovered again.
              </Alert>
            )}
            <Group justify="flex-end">
              <Button type="submit" leftSection={<IconDownload size={16} />} loading={spec.isFetching} data-testid="custom-load">
                Load connector
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      {pkg && (
        <SourceEditor key={pkg} connector={CUSTOM_CONNECTOR} pkg={pkg} connectorName={pkg} source={source} onPackageError={setSubmitError} />
      )}
    </Stack>
  );
}

/** The edit page of a saved custom source: its package, changeable (kept here until saved), then the form. */
function EditCustomSource({ source }: { source: Source }) {
  const [pkg, setPkg] = useState(source.package);
  return <CustomSourceEditor pkg={pkg} onLoad={setPkg} source={source} />;
}

interface SourceEditorProps {
  connector: string;
  /** A custom connector's package or path. */
  pkg?: string;
  connectorName: string;
  source?: Source;
  /** Receives the `package` field error of a check or save (undefined when it starts). */
  onPackageError?: (reason: string | undefined) => void;
}

/** Loads the connector's spec (installing it the first time), then shows the source form. */
function SourceEditor({ connector, pkg, connectorName, source, onPackageError }: SourceEditorProps) {
  const custom = connector === CUSTOM_CONNECTOR;
  const spec = useSpec(connector, pkg);
  if (spec.isPending) {
    return (
      <Card withBorder padding="xl" data-testid="spec-loading">
        <Center>
          <Stack align="center" gap="xs">
            <Loader />
            {custom ? (
              <Text>Installing {pkg}… the first time takes a minute.</Text>
            ) : (
              <>
                <Text>Installing the {connectorName || connector} connector…</Text>
                <Text size="sm" c="dimmed">
                  The first time a connector is used this can take up to half a minute.
                </Text>
              </>
            )}
          </Stack>
        </Center>
      </Card>
    );
  }
  if (spec.error) {
    return (
      <Stack>
        <ApiErrorAlert error={spec.error} title={custom ? `Could not load ${pkg}` : `Could not load the ${connectorName || connector} connector`} />
        <Group>
          <Button variant="default" loading={spec.isFetching} onClick={() => void spec.refetch()} data-testid="spec-retry">
            Try again
          </Button>
        </Group>
      </Stack>
    );
  }

  return <SourceForm connector={connector} pkg={custom ? pkg : undefined} spec={spec.data} source={source} onPackageError={onPackageError} />;
}

/**
 * Name + the connector's generated settings form, Check connection and Save (create or update). A custom connector's
 * check, create and update send its `package` (on update, a new one switches the source to it).
 */
function SourceForm({ connector, pkg, spec, source, onPackageError }: Omit<SourceEditorProps, "connectorName"> & { spec: ConnectorSpec }) {
  const slug = useOrgSlug();
  const navigate = useNavigate();
  const generated = useMemo(() => specToForm(spec.spec, spec.secret_paths), [spec]);
  const [config, setConfig] = useState<Record<string, unknown>>(source?.config ?? {});
  const form = useForm({ initialValues: { name: source?.name ?? spec.name } });
  const configForm = useRef<JsonSchemaFormHandle>(null);
  const withPackage = pkg ? { package: pkg } : {};

  const check = useApiMutation(ingestApi.check, { form });
  const save = useApiMutation(
    (body: { name: string; config: Record<string, unknown> }) =>
      source ? ingestApi.update({ id: source.id, ...withPackage, ...body }) : ingestApi.create({ connector, ...withPackage, ...body }),
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
    onPackageError?.(undefined);
    const onError = (error: Error) => onPackageError?.(isApiError(error) ? error.fields.package : undefined);
    if (which === "check") check.mutate({ connector, ...withPackage, config, ...(source ? { source_id: source.id } : {}) }, { onError });
    else save.mutate({ name, config }, { onError });
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
                  {s.connector_slug === CUSTOM_CONNECTOR ? s.connector_name : `${s.connector_name} · ${s.package}`} {s.version}
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
          {canEdit && s.connector_slug === CUSTOM_CONNECTOR ? (
            <EditCustomSource key={`${s.id}:${s.updated_at}`} source={s} />
          ) : canEdit ? (
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
