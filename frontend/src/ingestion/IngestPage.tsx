import { Stack, Tabs, Text, Title } from "@mantine/core";
import { IconArrowsRightLeft, IconBooks, IconPlugConnected } from "@tabler/icons-react";
import { useSearchParams } from "react-router";
import { useCan } from "../app/session";
import { ConnectionsTab } from "./ConnectionsTab";
import { ConnectorCatalogue, useConnectors } from "./ConnectorCatalogue";
import { SourcesTab } from "./SourcesTab";

type Tab = "sources" | "connections" | "catalogue";

/** Ingest: the org's sources (default tab), connections (`?tab=connections`) and the connector catalogue (`?tab=catalogue`). */
export function IngestPage() {
  const [params, setParams] = useSearchParams();
  const canConnections = useCan("connection.view");
  const asked = params.get("tab");
  const tab: Tab = asked === "catalogue" ? "catalogue" : asked === "connections" && canConnections ? "connections" : "sources";
  const all = useConnectors();

  return (
    <Stack gap="lg" data-testid="page-ingest">
      <div>
        <Title order={2}>Ingest</Title>
        <Text c="dimmed">
          Bring field data into your warehouse from {all.data ? all.data.length : "300"} sources: KoboToolbox-style
          forms, CommCare, SurveyCTO, Avni, spreadsheets, files and databases.
        </Text>
      </div>
      <Tabs
        value={tab}
        onChange={(v) => setParams(v && v !== "sources" ? { tab: v } : {}, { replace: true })}
        keepMounted={false}
      >
        <Tabs.List mb="md">
          <Tabs.Tab value="sources" leftSection={<IconPlugConnected size={16} />} data-testid="tab-sources">
            Sources
          </Tabs.Tab>
          {canConnections && (
            <Tabs.Tab value="connections" leftSection={<IconArrowsRightLeft size={16} />} data-testid="tab-connections">
              Connections
            </Tabs.Tab>
          )}
          <Tabs.Tab value="catalogue" leftSection={<IconBooks size={16} />} data-testid="tab-catalogue">
            Catalogue
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="sources">
          <SourcesTab />
        </Tabs.Panel>
        {canConnections && (
          <Tabs.Panel value="connections">
            <ConnectionsTab />
          </Tabs.Panel>
        )}
        <Tabs.Panel value="catalogue">
          <ConnectorCatalogue />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
