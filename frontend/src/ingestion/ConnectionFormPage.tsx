import { Alert, Anchor, Breadcrumbs, Button, Card, Center, Group, Loader, NativeSelect, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconPlus, IconRefresh } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { isApiError } from "../api/errors";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { formatDateTime } from "../app/format";
import { useCan, useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { connectionApi, ingestApi, ingestKeys, type Connection, type ConnectionStream, type SourceStreams } from "./api";
import { defaultSchemaName, streamDefault, streamErrors, streamIn, streamProblem, type StreamErrors } from "./connectionModel";
import { ConnectionStreamsEditor } from "./ConnectionStreamsEditor";
import { useSources } from "./SourcesTab";

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

function Crumbs({ current, connection }: { current: string; connection?: Connection }) {
  return (
    <Breadcrumbs>
      <Anchor component={Link} to="/ingest?tab=connections">
        Connections
      </Anchor>
      {connection && (
        <Anchor component={Link} to={`/ingest/connections/${connection.id}`}>
          {connection.name}
        </Anchor>
      )}
      <Text>{current}</Text>
    </Breadcrumbs>
  );
}

/** What can be told before sending: a selected stream, and each selected stream's cursor / key where its modes need them. */
function checkStreams(streams: ConnectionStream[]): StreamErrors {
  const out: StreamErrors = { byStream: {} };
  if (!streams.some((s) => s.selected)) out.general = "Select at least one stream.";
  for (const s of streams) {
    const problem = streamProblem(s);
    if (problem) out.byStream[s.name] = { [problem.field]: problem.message };
  }
  return out;
}

/** Name, destination schema and the streams editor; creates (with `source`) or updates `connection`. */
function ConnectionForm({
  source,
  connection,
  initialStreams,
  header,
  streamsAction,
}: {
  source: { id: number; name: string };
  connection?: Connection;
  initialStreams: ConnectionStream[];
  header?: ReactNode;
  streamsAction?: ReactNode;
}) {
  const slug = useOrgSlug();
  const navigate = useNavigate();
  const form = useForm({
    initialValues: {
      name: connection?.name ?? source.name,
      destination_schema: connection?.destination_schema ?? defaultSchemaName(source.name),
    },
  });
  const [streams, setStreams] = useState(initialStreams);
  // Checked live once Save was pressed.
  const [tried, setTried] = useState(false);
  const localErrors = tried ? checkStreams(streams) : { byStream: {} };

  const save = useApiMutation(
    (body: { name: string; destination_schema: string; streams: ReturnType<typeof streamIn>[] }) =>
      connection ? connectionApi.update({ id: connection.id, ...body }) : connectionApi.create({ source_id: source.id, ...body }),
    {
      form,
      invalidate: [
        ingestKeys.connections(slug),
        ingestKeys.sources(slug),
        ingestKeys.source(slug, source.id),
        ...(connection ? [ingestKeys.connection(slug, connection.id)] : []),
      ],
      onSuccess: (saved) => {
        notifications.show({ color: "green", message: `Connection "${saved.name}" saved.` });
        navigate(`/ingest/connections/${saved.id}`);
      },
    },
  );
  const serverErrors =
    isApiError(save.error) ? streamErrors(save.error.fields, save.variables?.streams.map((s) => s.name) ?? []) : { byStream: {} };
  const errors: StreamErrors = {
    general: localErrors.general ?? serverErrors.general,
    byStream: { ...serverErrors.byStream, ...localErrors.byStream },
  };

  const submit = () => {
    const name = form.values.name.trim();
    const schema = form.values.destination_schema.trim();
    form.clearErrors();
    let ok = true;
    if (!name) {
      form.setFieldError("name", "Give the connection a name.");
      ok = false;
    }
    if (!SCHEMA_RE.test(schema)) {
      form.setFieldError(
        "destination_schema",
        "Use lower-case letters, digits and underscores, starting with a letter (at most 63 characters).",
      );
      ok = false;
    }
    const local = checkStreams(streams);
    setTried(true);
    if (!ok || local.general || Object.keys(local.byStream).length) return;
    save.reset();
    save.mutate({ name, destination_schema: schema, streams: streams.map(streamIn) });
  };

  const schemaChanged = !!connection && form.values.destination_schema.trim() !== connection.destination_schema;

  return (
    <Stack>
      <Card withBorder>
        <Stack>
          {header}
          <TextInput label="Name" required data-testid="connection-name" {...form.getInputProps("name")} />
          <TextInput
            label="Destination schema"
            required
            description={
              schemaChanged
                ? "A new schema starts every stream over: the next sync reads everything again into it."
                : "The warehouse schema the tables load into: lower-case letters, digits and underscores."
            }
            data-testid="connection-schema"
            {...form.getInputProps("destination_schema")}
          />
        </Stack>
      </Card>
      <Card withBorder>
        <Group justify="space-between" mb="sm">
          <div>
            <Title order={4}>Streams</Title>
            <Text size="sm" c="dimmed">
              Choose what to sync and how. {connection && "A stream whose mode, key or cursor changes is read again in full next time."}
            </Text>
          </div>
          {streamsAction}
        </Group>
        <ConnectionStreamsEditor streams={streams} onChange={setStreams} errors={errors} disabled={save.isPending} />
      </Card>
      <ApiErrorAlert error={save.error} title="Could not save the connection" />
      <Group justify="flex-end">
        <Button variant="default" component={Link} to={connection ? `/ingest/connections/${connection.id}` : "/ingest?tab=connections"}>
          Cancel
        </Button>
        <Button loading={save.isPending} onClick={submit} data-testid="connection-save">
          {connection ? "Save" : "Create connection"}
        </Button>
      </Group>
    </Stack>
  );
}

/** The source's streams (cached discovery; the first time the connector runs its discover). */
function useSourceStreams(sourceId: number | null) {
  const slug = useOrgSlug();
  return useQuery({
    queryKey: ingestKeys.streams(slug, sourceId ?? 0),
    queryFn: () => ingestApi.streams({ id: sourceId!, refresh: false }),
    enabled: sourceId != null,
    staleTime: Infinity,
    retry: false,
  });
}

/** /ingest/connections/new?source=<id>: pick a source, name, schema, then its streams. */
export function NewConnectionPage() {
  const slug = useOrgSlug();
  const queryClient = useQueryClient();
  const canEditSources = useCan("source.edit");
  const [params, setParams] = useSearchParams();
  const sources = useSources();
  const sourceId = Number(params.get("source")) || null;
  const source = sources.data?.find((s) => s.id === sourceId) ?? null;
  const streams = useSourceStreams(source ? source.id : null);
  const rediscover = useApiMutation(ingestApi.streams, {
    onSuccess: (out) => queryClient.setQueryData<SourceStreams>(ingestKeys.streams(slug, source!.id), out),
  });

  const picker = (
    <NativeSelect
      label="Source"
      required
      value={source ? String(source.id) : ""}
      data={[{ value: "", label: "Choose a source…" }, ...(sources.data ?? []).map((s) => ({ value: String(s.id), label: `${s.name} (${s.connector_name})` }))]}
      onChange={(e) => setParams(e.currentTarget.value ? { source: e.currentTarget.value } : {}, { replace: true })}
      data-testid="connection-source"
    />
  );

  let body: ReactNode;
  if (sources.isPending) body = <Loader />;
  else if (sources.error) body = <ApiErrorAlert error={sources.error} />;
  else if (sources.data.length === 0) {
    body = (
      <Card withBorder data-testid="connections-no-sources">
        <Stack align="flex-start">
          <Text>A connection reads from a source, and there is none yet.</Text>
          {canEditSources && (
            <Button component={Link} to="/ingest/sources/new" leftSection={<IconPlus size={16} />} data-testid="connection-new-source">
              Add a source
            </Button>
          )}
        </Stack>
      </Card>
    );
  } else if (!source) {
    body = <Card withBorder>{picker}</Card>;
  } else if (streams.isPending || rediscover.isPending) {
    body = (
      <Card withBorder>
        <Stack>
          {picker}
          <Center py="md" data-testid="connection-streams-loading">
            <Group gap="xs">
              <Loader size="sm" />
              <Text size="sm">Asking the connector for its streams… (the first time this can take half a minute)</Text>
            </Group>
          </Center>
        </Stack>
      </Card>
    );
  } else if (streams.error) {
    body = (
      <Card withBorder>
        <Stack>
          {picker}
          <ApiErrorAlert error={streams.error} title="Could not discover the source's streams" />
          <Group>
            <Button variant="default" loading={streams.isFetching} onClick={() => void streams.refetch()} data-testid="connection-streams-retry">
              Try again
            </Button>
          </Group>
        </Stack>
      </Card>
    );
  } else {
    const data = streams.data;
    body = (
      <ConnectionForm
        key={`${source.id}:${data.discovered_at ?? ""}`}
        source={source}
        initialStreams={data.streams.map((s) => streamDefault(s))}
        header={picker}
        streamsAction={
          <Stack gap={2} align="flex-end">
            <Button
              variant="default"
              size="xs"
              leftSection={<IconRefresh size={14} />}
              onClick={() => rediscover.mutate({ id: source.id, refresh: true })}
              data-testid="connection-streams-refresh"
            >
              Discover again
            </Button>
            {data.discovered_at && (
              <Text size="xs" c="dimmed">
                Discovered {formatDateTime(data.discovered_at)}
              </Text>
            )}
          </Stack>
        }
      />
    );
  }

  return (
    <Stack gap="lg" data-testid="page-connection-new">
      <Crumbs current="New connection" />
      <div>
        <Title order={2}>New connection</Title>
        <Text c="dimmed">Sync the streams you choose from a source into a schema of your warehouse.</Text>
      </div>
      <ApiErrorAlert error={rediscover.error} title="Could not discover the streams" />
      {body}
    </Stack>
  );
}

/** /ingest/connections/:id/edit: name, schema and streams of a connection (its source stays). */
export function EditConnectionPage() {
  const slug = useOrgSlug();
  const id = Number(useParams().id);
  const connection = useQuery({
    queryKey: ingestKeys.connection(slug, id),
    queryFn: () => connectionApi.get(id),
    enabled: Number.isInteger(id),
  });
  const c = connection.data;
  return (
    <Stack gap="lg" data-testid="page-connection-edit">
      <Crumbs current="Edit" connection={c} />
      {connection.isPending && <Loader />}
      <ApiErrorAlert error={connection.error} />
      {c && (
        <>
          <div>
            <Title order={2}>Edit {c.name}</Title>
            <Text c="dimmed">
              From{" "}
              <Anchor component={Link} to={`/ingest/sources/${c.source_id}`}>
                {c.source_name}
              </Anchor>
            </Text>
          </div>
          {c.running && (
            <Alert color="yellow" variant="light" icon={<IconAlertTriangle size={18} />} data-testid="connection-edit-running">
              A sync of this connection is running: changes can be saved once it ends or is cancelled.
            </Alert>
          )}
          <ConnectionForm
            key={`${c.id}:${c.updated_at}`}
            source={{ id: c.source_id, name: c.source_name }}
            connection={c}
            initialStreams={c.streams}
          />
        </>
      )}
    </Stack>
  );
}
