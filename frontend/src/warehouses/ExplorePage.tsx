import { IconSearch } from "@tabler/icons-react";
import { EmptyState } from "../app/EmptyState";

export function ExplorePage() {
  return (
    <EmptyState
      testId="page-explore"
      icon={<IconSearch size={34} />}
      title="Explore"
      description="Browse your warehouse: schemas, tables, columns, previews and column statistics."
      features={[
        "DuckDB (zero setup), PostgreSQL or BigQuery, with credentials tested before saving and stored encrypted.",
        "Table previews with paging and sorting, row counts and CSV download.",
        "Column statistics: nulls, distinct values, ranges, top values and histograms.",
      ]}
    />
  );
}
