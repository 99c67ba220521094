import { Button, Card, Grid, Group, Loader, Stack, Tabs, Text, ThemeIcon, Title } from "@mantine/core";
import { IconDatabaseOff, IconDownload, IconEye, IconTable } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { formatDateTime } from "../app/format";
import { useCan, useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { exploreApi } from "./api";
import { PreviewTable } from "./PreviewTable";
import { SchemaTree } from "./SchemaTree";
import { StatisticsPanel } from "./StatisticsPanel";

function NoWarehouse() {
  const canEdit = useCan("warehouse.edit");
  return (
    <Card withBorder padding="xl" maw={760} data-testid="explore-no-warehouse">
      <Stack align="center" ta="center">
        <ThemeIcon size={64} radius="xl" variant="light">
          <IconDatabaseOff size={34} />
        </ThemeIcon>
        <Text size="lg" fw={500}>
          No warehouse is connected yet.
        </Text>
        {canEdit ? (
          <Button component={Link} to="/settings/warehouse" data-testid="explore-setup-warehouse">
            Set up the warehouse
          </Button>
        ) : (
          <Text c="dimmed" size="sm">
            Once an admin of your organisation sets one up, its tables show here.
          </Text>
        )}
      </Stack>
    </Card>
  );
}

function TableView({ schema, table, kind }: { schema: string; table: string; kind?: string }) {
  const slug = useOrgSlug();
  const [total, setTotal] = useState<number | null>(null);
  return (
    <Stack gap="sm" data-testid="explore-table">
      <Group justify="space-between" wrap="nowrap">
        <Group gap="sm" wrap="nowrap">
          {kind === "view" ? <IconEye size={20} /> : <IconTable size={20} />}
          <div>
            <Title order={4} style={{ wordBreak: "break-all" }}>
              {schema}.{table}
            </Title>
            <Text size="sm" c="dimmed" data-testid="explore-row-count">
              {total == null ? "…" : `${total.toLocaleString()} rows`}
            </Text>
          </div>
        </Group>
        <Button
          component="a"
          href={exploreApi.downloadUrl(schema, table, slug)}
          download={`${schema}.${table}.csv`}
          variant="default"
          leftSection={<IconDownload size={16} />}
          data-testid="explore-download"
        >
          Download CSV
        </Button>
      </Group>
      <Tabs defaultValue="preview" keepMounted={false}>
        <Tabs.List mb="sm">
          <Tabs.Tab value="preview" data-testid="tab-preview">
            Preview
          </Tabs.Tab>
          <Tabs.Tab value="statistics" data-testid="tab-statistics">
            Statistics
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="preview">
          <PreviewTable schema={schema} table={table} onTotal={setTotal} />
        </Tabs.Panel>
        <Tabs.Panel value="statistics">
          <StatisticsPanel schema={schema} table={table} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

export function ExplorePage() {
  const slug = useOrgSlug();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const key = ["org", slug, "explore", "tree"];
  const tree = useQuery({ queryKey: key, queryFn: () => exploreApi.tree() });
  const refresh = useApiMutation(() => exploreApi.tree(true), {
    onSuccess: (t) => queryClient.setQueryData(key, t),
  });
  const schema = params.get("schema");
  const table = params.get("table");
  const selected = schema && table ? { schema, table } : null;
  const kind = tree.data?.schemas.find((s) => s.name === schema)?.tables.find((t) => t.name === table)?.kind;

  return (
    <Stack gap="lg" data-testid="page-explore">
      <Group justify="space-between">
        <Title order={2}>Explore</Title>
        {tree.data?.refreshed_at && (
          <Text size="xs" c="dimmed">
            Tables as of {formatDateTime(tree.data.refreshed_at)}
          </Text>
        )}
      </Group>
      <ApiErrorAlert error={tree.error ?? refresh.error} />
      {tree.isPending && <Loader />}
      {tree.data === null && <NoWarehouse />}
      {tree.data && (
        <Grid gutter="lg">
          <Grid.Col span={{ base: 12, md: 4, lg: 3 }}>
            <SchemaTree
              tree={tree.data}
              selected={selected}
              onSelect={(s, t) => setParams({ schema: s, table: t })}
              onRefresh={() => refresh.mutate()}
              refreshing={refresh.isPending}
            />
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 8, lg: 9 }}>
            {selected ? (
              <TableView key={`${selected.schema}.${selected.table}`} schema={selected.schema} table={selected.table} kind={kind} />
            ) : (
              <Text c="dimmed" mt="md">
                Pick a table on the left to preview its rows and compute column statistics.
              </Text>
            )}
          </Grid.Col>
        </Grid>
      )}
    </Stack>
  );
}
