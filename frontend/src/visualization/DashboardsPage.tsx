import { IconLayoutDashboard } from "@tabler/icons-react";
import { EmptyState } from "../app/EmptyState";

export function DashboardsPage() {
  return (
    <EmptyState
      testId="page-dashboards"
      icon={<IconLayoutDashboard size={34} />}
      title="Dashboards"
      description="Arrange charts, KPI cards and text on a grid, filter them together and share them."
      features={[
        "Drag-and-drop layout with tabs and filters that apply to every chart.",
        "Public share links, embedding and PDF export.",
        "Reports: a dashboard frozen for a period, with comments.",
      ]}
    />
  );
}
