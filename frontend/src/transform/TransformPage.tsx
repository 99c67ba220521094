import { IconTransform } from "@tabler/icons-react";
import { EmptyState } from "../app/EmptyState";

export function TransformPage() {
  return (
    <EmptyState
      testId="page-transform"
      icon={<IconTransform size={34} />}
      title="Transform"
      description="Clean and model your data with dbt: a no-code canvas or your own dbt repository."
      features={[
        "A real dbt project in git, managed for you, or your own repository.",
        "A visual canvas: flatten JSON, join, pivot, group, filter and more, with a live preview at each step.",
        "Run models and tests, see data-quality results and the lineage from sources to charts.",
      ]}
    />
  );
}
