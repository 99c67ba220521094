import { IconRoute } from "@tabler/icons-react";
import { EmptyState } from "../app/EmptyState";

export function OrchestratePage() {
  return (
    <EmptyState
      testId="page-orchestrate"
      icon={<IconRoute size={34} />}
      title="Orchestrate"
      description="Schedule pipelines that sync your sources and run your transformations, in order."
      features={[
        "Pipelines of syncs and dbt steps, on a daily, weekly or cron schedule in your timezone.",
        "Run history with per-task status, live logs, retry and cancel.",
        "Failure alerts by email and in the app, with a plain-language summary of what went wrong.",
      ]}
    />
  );
}
