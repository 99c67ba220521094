import { Anchor, Badge, Card, Group, Loader, NativeSelect, SimpleGrid, Stack, Text, TextInput, UnstyledButton } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconPackage, IconSearch, IconStarFilled } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { client, unwrap } from "../api/client";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { useCan, useConfig, useOrgSlug } from "../app/session";
import { CUSTOM_CONNECTOR, ingestKeys, type Connector } from "./api";

/** Every connector in the catalogue (cached for the session). */
export function useConnectors() {
  const slug = useOrgSlug();
  return useQuery({
    queryKey: ingestKeys.connectors(slug),
    queryFn: () => unwrap(client.GET("/api/connectors")),
    staleTime: Infinity,
  });
}

/**
 * The catalogue of source connectors (every airbyte-source-* package on PyPI), NGO favourites first, searched
 * on the server. With `onPick`, each card is a button (`pick-<slug>`) that chooses the connector. When the deployment
 * allows custom connectors (`GET /api/config`) and the user has source.edit, a "Custom connector" card
 * (`connector-custom`) leads to the new-source page in custom mode.
 */
export function ConnectorCatalogue({ onPick }: { onPick?: (connector: Connector) => void }) {
  const slug = useOrgSlug();
  const [search, setSearch] = useState("");
  const [category, setCategory] = useState("");
  const [debounced] = useDebouncedValue(search, 250);
  const all = useConnectors();
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
    <Stack gap="md">
      <Group align="flex-end">
        <TextInput
          label="Search connectors"
          placeholder="e.g. CommCare, Google Sheets, Salesforce"
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          data-testid="connector-search"
          style={{ flex: 1 }}
          autoFocus={!!onPick}
        />
        <NativeSelect
          label="Category"
          data={[{ value: "", label: "All categories" }, ...categories.map((c) => ({ value: c, label: c }))]}
          value={category}
          onChange={(e) => setCategory(e.currentTarget.value)}
          data-testid="connector-category"
        />
      </Group>
      <CustomConnectorCard />
      <ApiErrorAlert error={found.error} />
      {found.isPending ? (
        <Loader />
      ) : (
        <>
          <Text size="sm" c="dimmed" data-testid="connector-count">
            {found.data?.length ?? 0} connectors
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} data-testid="connector-grid">
            {(found.data ?? []).map((c) =>
              onPick ? (
                <UnstyledButton key={c.slug} onClick={() => onPick(c)} data-testid={`pick-${c.slug}`} aria-label={`Use ${c.name}`}>
                  <ConnectorCard connector={c} picking />
                </UnstyledButton>
              ) : (
                <ConnectorCard key={c.slug} connector={c} />
              ),
            )}
          </SimpleGrid>
        </>
      )}
    </Stack>
  );
}

/** Link to `/ingest/sources/new?connector=custom`; only when custom connectors are allowed and the user has source.edit. */
function CustomConnectorCard() {
  const config = useConfig();
  const canEdit = useCan("source.edit");
  if (!canEdit || !config.data?.custom_connectors) return null;
  return (
    <UnstyledButton
      component={Link}
      to={`/ingest/sources/new?connector=${CUSTOM_CONNECTOR}`}
      data-testid="connector-custom"
      aria-label="Use a custom connector"
    >
      <Card withBorder padding="md" style={{ borderStyle: "dashed" }}>
        <Group gap="sm" wrap="nowrap">
          <IconPackage size={24} />
          <div>
            <Text fw={600}>Custom connector</Text>
            <Text size="sm" c="dimmed">
              Not in the catalogue? Use any pip requirement (e.g. airbyte-source-foo==1.2.3) or local path of a connector
              that speaks the Airbyte protocol.
            </Text>
          </div>
        </Group>
      </Card>
    </UnstyledButton>
  );
}

function ConnectorCard({ connector, picking = false }: { connector: Connector; picking?: boolean }) {
  return (
    <Card withBorder padding="md" h="100%" data-testid={picking ? undefined : `connector-${connector.slug}`}>
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
      {!picking && (
        <Anchor href={connector.docs_url} target="_blank" rel="noreferrer" size="sm" mt="xs">
          Documentation
        </Anchor>
      )}
    </Card>
  );
}
