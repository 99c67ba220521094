import { IconDatabaseImport } from "@tabler/icons-react";
import { EmptyState } from "../app/EmptyState";

export function IngestPage() {
  return (
    <EmptyState
      testId="page-ingest"
      icon={<IconDatabaseImport size={34} />}
      title="Ingest"
      description="Connect KoboToolbox, CommCare, SurveyCTO, Google Sheets and 300+ sources; syncs land in your warehouse."
      features={[
        "A catalogue of every Airbyte source connector, NGO favourites first, plus file uploads (CSV, Excel, JSON).",
        "Connections with per-stream and per-column selection, full-refresh or incremental syncs, deduplication.",
        "Live sync progress and logs, schema-change detection with a diff, clear and reset.",
      ]}
    />
  );
}
