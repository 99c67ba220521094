import { IconChartBar } from "@tabler/icons-react";
import { EmptyState } from "../app/EmptyState";

export function ChartsPage() {
  return (
    <EmptyState
      testId="page-charts"
      icon={<IconChartBar size={34} />}
      title="Charts"
      description="Build bar, line, pie, KPI, table, pivot and map charts on your tables and models."
      features={[
        "Dimensions, series, metrics and filters with a live preview while you build.",
        "Reusable metrics and KPIs with targets and red/amber/green thresholds.",
        "Export as PNG or CSV.",
      ]}
    />
  );
}
