import {
  Anchor,
  Badge,
  Card,
  Group,
  Loader,
  NativeSelect,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconSearch, IconStarFilled } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { client, unwrap, type Schemas } from "../api/client";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { useOrgSlug } from "../app/session";

type Connector = Schemas["ConnectorOut"];

/** Ingest: the catalogue of source connectors (every airbyte-source-* package on PyPI), NGO favourites first. */
export function IngestPage() {
  const slug = useOrgSlug();
  const [search, setSearch] = useState("");
  const [category, setCategory] = useState("");
  const [debounced] = useDebouncedValue(search, 250);
  const all = useQuery({
    queryKey: ["org", slug, "connectors"],
    queryFn: () => unwrap(client.GET("/api/connectors")),
    staleTime: Infinity,
  });
  const found = useQuery({
    queryKey: ["org", slug, "connectors", debounced, category],
    queryFn: () =>
      unwrap(
        client.GET("/api/connectors", {
          params: { query: { search: debounced || undefined, category: category || undefined } },
        }),
      ),
    placeholderData: (previous) => previous,
  });
  const categories = Array.from(new Set((all.data ?? []).map((c) => c.category))).sort();

  return (
    <Stack gap="lg" data-testid="page-ingest">
      <div>
        <Title order={2}>Ingest</Title>
        <Text c="dimmed">
          Bring field data into your warehouse from {all.data ? all.data.length : "300"} sources: KoboToolbox-style
          forms, CommCare, SurveyCTO, Avni, spreadsheets, files and databases. Setting up sources and syncs comes next;
          here is every connector you will be able to use.
        </Text>
      </div>
      <Group align="flex-end">
        <TextInput
          label="Search connectors"
          placeholder="e.g. CommCare, Google Sheets, Salesforce"
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          data-testid="connector-search"
          style={{ flex: 1 }}
        />
        <NativeSelect
          label="Category"
          data={[{ value: "", label: "All categories" }, ...categories.map((c) => ({ value: c, label: c }))]}
          value={category}
          onChange={(e) => setCategory(e.currentTarget.value)}
          data-testid="connector-category"
        />
      </Group>
      <ApiErrorAlert error={found.error} />
      {found.isPending ? (
        <Loader />
      ) : (
        <>
          <Text size="sm" c="dimmed" data-testid="connector-count">
            {found.data?.length ?? 0} connectors
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} data-testid="connector-grid">
            {(found.data ?? []).map((c) => (
              <ConnectorCard key={c.slug} connector={c} />
            ))}
          </SimpleGrid>
        </>
      )}
    </Stack>
  );
}

function ConnectorCard({ connector }: { connector: Connector }) {
  return (
    <Card withBorder padding="md" data-testid={`connector-${connector.slug}`}>
      <Group justify="space-between" wrap="nowrap">
        <Text fw={600}>{connector.name}</Text>
        {connector.favourite && (
          <Badge leftSection={<IconStarFilled size={10} />} variant="light" color="yellow">
            NGO favourite
          </Badge>
        )}
      </Group>
      <Text size="xs" c="dimmed" mt={4}>
        {connector.category} · {connector.package} {connector.version}
      </Text>
      <Text size="sm" mt="xs" lineClamp={2}>
        {connector.summary}
      </Text>
      <Anchor href={connector.docs_url} target="_blank" rel="noreferrer" size="sm" mt="xs">
        Documentation
      </Anchor>
    </Card>
  );
}
