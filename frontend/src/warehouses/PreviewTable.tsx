import { Box, Button, Code, Group, Loader, NativeSelect, ScrollArea, Table, Text, Tooltip, UnstyledButton } from "@mantine/core";
import { IconArrowDown, IconArrowUp, IconArrowsSort, IconChevronLeft, IconChevronRight } from "@tabler/icons-react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { useOrgSlug } from "../app/session";
import { exploreApi, type PreviewQuery } from "./api";
import { TypeBadge } from "./SchemaTree";

export const PAGE_SIZES = [50, 100, 500];
const MAX_CELL = 60;

type Sort = { column: string; direction: "asc" | "desc" } | null;

/** Header clicks cycle a column: ascending → descending → unsorted. */
export function nextSort(sort: Sort, column: string): Sort {
  if (sort?.column !== column) return { column, direction: "asc" };
  return sort.direction === "asc" ? { column, direction: "desc" } : null;
}

function Cell({ value }: { value: unknown }) {
  if (value === null || value === undefined) {
    return (
      <Text span c="dimmed" fs="italic" size="sm">
        null
      </Text>
    );
  }
  if (typeof value === "object") {
    const compact = JSON.stringify(value);
    return (
      <Tooltip label={<Code block>{JSON.stringify(value, null, 2)}</Code>} multiline maw={480} withinPortal>
        <Text span size="sm" ff="monospace">
          {compact.length > MAX_CELL ? `${compact.slice(0, MAX_CELL)}…` : compact}
        </Text>
      </Tooltip>
    );
  }
  const text = String(value);
  if (text.length <= MAX_CELL) return <>{text}</>;
  return (
    <Tooltip label={text} multiline maw={480} withinPortal>
      <Text span size="sm">
        {text.slice(0, MAX_CELL)}…
      </Text>
    </Tooltip>
  );
}

export function PreviewTable({ schema, table, onTotal }: { schema: string; table: string; onTotal?: (n: number) => void }) {
  const slug = useOrgSlug();
  const [sort, setSort] = useState<Sort>(null);
  const [limit, setLimit] = useState(PAGE_SIZES[0]);
  const [offset, setOffset] = useState(0);
  const query: PreviewQuery = { limit, offset, ...(sort ? { sort: sort.column, direction: sort.direction } : {}) };
  const preview = useQuery({
    queryKey: ["org", slug, "explore", "preview", schema, table, query],
    queryFn: () => exploreApi.preview(schema, table, query),
    placeholderData: keepPreviousData,
  });
  const data = preview.data;
  const total = data?.total_rows ?? 0;
  useEffect(() => {
    if (data) onTotal?.(data.total_rows);
  }, [data, onTotal]);
  const clickSort = (column: string) => {
    setSort((s) => nextSort(s, column));
    setOffset(0);
  };

  return (
    <Box>
      <ApiErrorAlert error={preview.error} title="Could not load the preview" />
      {preview.isPending && <Loader size="sm" />}
      {data && (
        <>
          <ScrollArea type="auto" mah="calc(100vh - 330px)" style={{ opacity: preview.isPlaceholderData ? 0.6 : 1 }}>
            <Table striped highlightOnHover withTableBorder withColumnBorders stickyHeader data-testid="preview-table" fz="sm">
              <Table.Thead>
                <Table.Tr>
                  {data.columns.map((c) => {
                    const dir = sort?.column === c.name ? sort.direction : null;
                    const Icon = dir === "asc" ? IconArrowUp : dir === "desc" ? IconArrowDown : IconArrowsSort;
                    return (
                      <Table.Th key={c.name} style={{ whiteSpace: "nowrap" }} aria-sort={dir === "asc" ? "ascending" : dir === "desc" ? "descending" : undefined}>
                        <UnstyledButton onClick={() => clickSort(c.name)} data-testid={`sort-${c.name}`} data-direction={dir ?? "none"}>
                          <Group gap={6} wrap="nowrap">
                            <Text fw={600} size="sm">
                              {c.name}
                            </Text>
                            <TypeBadge type={c.type} kind={c.kind} />
                            <Icon size={14} opacity={dir ? 1 : 0.4} />
                          </Group>
                        </UnstyledButton>
                      </Table.Th>
                    );
                  })}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.rows.map((row, i) => (
                  <Table.Tr key={offset + i}>
                    {row.map((v, j) => (
                      <Table.Td key={j} style={{ whiteSpace: "nowrap" }}>
                        <Cell value={v} />
                      </Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {data.rows.length === 0 && (
              <Text size="sm" c="dimmed" p="sm">
                No rows.
              </Text>
            )}
          </ScrollArea>
          <Group justify="space-between" mt="sm">
            <Text size="sm" c="dimmed" data-testid="preview-range">
              {total === 0 ? "0 rows" : `Rows ${(offset + 1).toLocaleString()}–${Math.min(offset + limit, total).toLocaleString()} of ${total.toLocaleString()}`}
            </Text>
            <Group gap="xs">
              <NativeSelect
                size="xs"
                aria-label="Rows per page"
                data={PAGE_SIZES.map(String)}
                value={String(limit)}
                onChange={(e) => {
                  setLimit(Number(e.currentTarget.value));
                  setOffset(0);
                }}
                data-testid="preview-page-size"
              />
              <Button
                size="xs"
                variant="default"
                leftSection={<IconChevronLeft size={14} />}
                disabled={offset === 0}
                onClick={() => setOffset(Math.max(0, offset - limit))}
                data-testid="preview-prev"
              >
                Previous
              </Button>
              <Button
                size="xs"
                variant="default"
                rightSection={<IconChevronRight size={14} />}
                disabled={offset + limit >= total}
                onClick={() => setOffset(offset + limit)}
                data-testid="preview-next"
              >
                Next
              </Button>
            </Group>
          </Group>
        </>
      )}
    </Box>
  );
}
