import { ActionIcon, Badge, Group, NavLink, ScrollArea, Stack, Text, TextInput, Tooltip } from "@mantine/core";
import { IconEye, IconFolder, IconRefresh, IconSearch, IconTable } from "@tabler/icons-react";
import { useMemo, useState } from "react";
import type { ColumnKind, Tree } from "./api";

export const KIND_COLOR: Record<ColumnKind, string> = {
  number: "blue",
  text: "grape",
  date: "teal",
  datetime: "teal",
  boolean: "orange",
  json: "pink",
  other: "gray",
};

export function TypeBadge({ type, kind }: { type: string; kind: ColumnKind }) {
  return (
    <Badge size="xs" variant="light" color={KIND_COLOR[kind] ?? "gray"} tt="none" style={{ flexShrink: 0 }}>
      {type}
    </Badge>
  );
}

/** Keeps the schemas/tables whose name, or one of whose columns, matches the search. */
export function filterTree(tree: Tree, search: string): Tree {
  const q = search.trim().toLowerCase();
  if (!q) return tree;
  const hit = (s: string) => s.toLowerCase().includes(q);
  return {
    ...tree,
    schemas: tree.schemas
      .map((s) => ({
        ...s,
        tables: hit(s.name) ? s.tables : s.tables.filter((t) => hit(t.name) || t.columns.some((c) => hit(c.name))),
      }))
      .filter((s) => s.tables.length > 0),
  };
}

export function SchemaTree({
  tree,
  selected,
  onSelect,
  onRefresh,
  refreshing,
}: {
  tree: Tree;
  selected: { schema: string; table: string } | null;
  onSelect: (schema: string, table: string) => void;
  onRefresh: () => void;
  refreshing: boolean;
}) {
  const [search, setSearch] = useState("");
  const shown = useMemo(() => filterTree(tree, search), [tree, search]);
  const searching = search.trim() !== "";
  return (
    <Stack gap="xs" data-testid="explore-tree">
      <Group gap="xs" wrap="nowrap">
        <TextInput
          flex={1}
          size="xs"
          placeholder="Search tables and columns"
          aria-label="Search tables and columns"
          leftSection={<IconSearch size={14} />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          data-testid="explore-search"
        />
        <Tooltip label="Reload from the warehouse">
          <ActionIcon variant="default" onClick={onRefresh} loading={refreshing} aria-label="Refresh" data-testid="explore-refresh">
            <IconRefresh size={16} />
          </ActionIcon>
        </Tooltip>
      </Group>
      <ScrollArea.Autosize mah="calc(100vh - 220px)" type="auto">
        {shown.schemas.length === 0 && (
          <Text size="sm" c="dimmed" p="xs">
            {searching ? "Nothing matches." : "The warehouse has no tables yet."}
          </Text>
        )}
        {shown.schemas.map((s) => (
          <NavLink
            key={s.name}
            label={s.name}
            leftSection={<IconFolder size={16} />}
            defaultOpened
            opened={searching || undefined}
            childrenOffset="sm"
            data-testid={`tree-schema-${s.name}`}
          >
            {s.tables.map((t) => {
              const active = selected?.schema === s.name && selected.table === t.name;
              return (
                <NavLink
                  key={t.name}
                  label={t.name}
                  description={t.kind === "view" ? "view" : undefined}
                  leftSection={t.kind === "view" ? <IconEye size={16} /> : <IconTable size={16} />}
                  active={active}
                  opened={active || (searching && t.columns.some((c) => c.name.toLowerCase().includes(search.trim().toLowerCase())))}
                  onClick={() => onSelect(s.name, t.name)}
                  childrenOffset="lg"
                  data-testid={`tree-table-${s.name}.${t.name}`}
                >
                  {t.columns.map((c) => (
                    <Group key={c.name} gap={6} justify="space-between" wrap="nowrap" py={2} pr="xs">
                      <Text size="xs" truncate>
                        {c.name}
                      </Text>
                      <TypeBadge type={c.type} kind={c.kind} />
                    </Group>
                  ))}
                </NavLink>
              );
            })}
          </NavLink>
        ))}
      </ScrollArea.Autosize>
    </Stack>
  );
}
