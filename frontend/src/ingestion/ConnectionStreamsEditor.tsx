import {
  Alert,
  Badge,
  Checkbox,
  Group,
  MultiSelect,
  NativeSelect,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  UnstyledButton,
} from "@mantine/core";
import { IconChevronDown, IconChevronRight, IconSearch } from "@tabler/icons-react";
import { Fragment, useState } from "react";
import type { ConnectionStream, DestinationMode, SyncMode } from "./api";
import {
  DESTINATION_MODE_LABELS,
  SYNC_MODE_LABELS,
  destinationModes,
  requiredColumns,
  withSyncMode,
  type StreamErrors,
} from "./connectionModel";

const modeLabel = (mode: string) => SYNC_MODE_LABELS[mode as SyncMode] ?? mode;

/** The stream's columns to load: all (null) or a choice; the key and cursor columns always load. */
function ColumnPicker({ stream, error, onChange, disabled }: { stream: ConnectionStream; error?: string; onChange: (s: ConnectionStream) => void; disabled: boolean }) {
  const required = new Set(requiredColumns(stream));
  const all = stream.selected_columns == null;
  const chosen = new Set(stream.selected_columns ?? stream.columns.map((c) => c.name));
  const toggle = (name: string, on: boolean) => {
    const next = stream.columns.map((c) => c.name).filter((c) => (c === name ? on : chosen.has(c)));
    onChange({ ...stream, selected_columns: next });
  };
  return (
    <Stack gap="xs" data-testid={`conn-stream-column-list-${stream.name}`}>
      <Checkbox
        label="All columns (new columns the source adds load too)"
        checked={all}
        disabled={disabled}
        onChange={(e) => onChange({ ...stream, selected_columns: e.currentTarget.checked ? null : stream.columns.map((c) => c.name) })}
        data-testid={`conn-stream-all-columns-${stream.name}`}
      />
      {error && (
        <Text size="xs" c="red" role="alert">
          {error}
        </Text>
      )}
      <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} spacing={4} verticalSpacing={4}>
        {stream.columns.map((c) => (
          <Checkbox
            key={c.name}
            size="xs"
            label={
              <>
                {c.name}{" "}
                <Text span size="xs" c="dimmed">
                  {c.type}
                  {required.has(c.name) ? " · always loaded" : ""}
                </Text>
              </>
            }
            aria-label={`Column ${c.name} of ${stream.name}`}
            checked={all || chosen.has(c.name) || required.has(c.name)}
            disabled={disabled || all || required.has(c.name)}
            onChange={(e) => toggle(c.name, e.currentTarget.checked)}
          />
        ))}
      </SimpleGrid>
    </Stack>
  );
}

function StreamRow({
  stream,
  errors = {},
  onChange,
  disabled,
}: {
  stream: ConnectionStream;
  errors?: Record<string, string>;
  onChange: (s: ConnectionStream) => void;
  disabled: boolean;
}) {
  const [expanded, setOpen] = useState(false);
  const open = expanded || !!errors.selected_columns;
  const Chevron = open ? IconChevronDown : IconChevronRight;
  const off = disabled || !stream.selected;
  const columnNames = stream.columns.map((c) => c.name);
  const sourceKey = stream.source_defined_primary_key.length > 0;
  const keyValues = stream.primary_key.map((p) => p.join("."));
  const keyData = [...new Set([...columnNames, ...keyValues])];
  const destinations = destinationModes(stream.sync_mode);
  if (!destinations.includes(stream.destination_mode)) destinations.push(stream.destination_mode);
  const columnCount =
    stream.selected_columns == null
      ? `All ${stream.columns.length} columns`
      : `${new Set([...stream.selected_columns, ...requiredColumns(stream)]).size} of ${stream.columns.length} columns`;
  const other = Object.entries(errors).filter(([field]) => !["sync_mode", "destination_mode", "primary_key", "cursor_field"].includes(field) && field !== "selected_columns");

  return (
    <Fragment>
      <Table.Tr data-testid={`conn-stream-${stream.name}`} data-selected={stream.selected} style={{ opacity: stream.selected ? 1 : 0.75 }}>
        <Table.Td>
          <Checkbox
            aria-label={`Sync ${stream.name}`}
            checked={stream.selected}
            disabled={disabled}
            onChange={(e) => onChange({ ...stream, selected: e.currentTarget.checked })}
            data-testid={`conn-stream-selected-${stream.name}`}
          />
        </Table.Td>
        <Table.Td>
          <Text fw={500} size="sm">
            {stream.namespace ? `${stream.namespace}.${stream.name}` : stream.name}
          </Text>
          <Text size="xs" c="dimmed">
            table {stream.table}
          </Text>
          {other.map(([field, reason]) => (
            <Text key={field} size="xs" c="red" role="alert" data-testid={`conn-stream-error-${stream.name}`}>
              {reason}
            </Text>
          ))}
        </Table.Td>
        <Table.Td>
          <NativeSelect
            size="xs"
            aria-label={`Sync mode of ${stream.name}`}
            value={stream.sync_mode}
            data={stream.supported_sync_modes.map((m) => ({ value: m, label: modeLabel(m) }))}
            disabled={off || stream.supported_sync_modes.length < 2}
            onChange={(e) => onChange(withSyncMode(stream, e.currentTarget.value as SyncMode))}
            error={errors.sync_mode}
            data-testid={`conn-stream-sync-mode-${stream.name}`}
          />
        </Table.Td>
        <Table.Td>
          <NativeSelect
            size="xs"
            aria-label={`Destination mode of ${stream.name}`}
            value={stream.destination_mode}
            data={destinations.map((m) => ({ value: m, label: DESTINATION_MODE_LABELS[m] }))}
            disabled={off}
            onChange={(e) => onChange({ ...stream, destination_mode: e.currentTarget.value as DestinationMode })}
            error={errors.destination_mode}
            data-testid={`conn-stream-destination-mode-${stream.name}`}
          />
        </Table.Td>
        <Table.Td>
          <MultiSelect
            size="xs"
            aria-label={`Primary key of ${stream.name}`}
            placeholder={keyValues.length ? undefined : sourceKey ? undefined : "none"}
            data={keyData}
            value={keyValues}
            searchable
            disabled={off || sourceKey}
            onChange={(values) => onChange({ ...stream, primary_key: values.map((v) => [v]) })}
            error={errors.primary_key}
            description={sourceKey ? "defined by the source" : undefined}
            comboboxProps={{ withinPortal: true }}
            miw={160}
            data-testid={`conn-stream-primary-key-${stream.name}`}
          />
        </Table.Td>
        <Table.Td>
          {stream.sync_mode === "incremental" ? (
            <NativeSelect
              size="xs"
              aria-label={`Cursor of ${stream.name}`}
              value={stream.cursor_field.join(".")}
              data={[
                { value: "", label: "Choose a column…" },
                ...[...new Set([...columnNames, ...(stream.cursor_field.length ? [stream.cursor_field.join(".")] : [])])].map((c) => ({ value: c, label: c })),
              ]}
              disabled={off || stream.source_defined_cursor}
              onChange={(e) => onChange({ ...stream, cursor_field: e.currentTarget.value ? [e.currentTarget.value] : [] })}
              error={errors.cursor_field}
              description={stream.source_defined_cursor ? "defined by the source" : undefined}
              data-testid={`conn-stream-cursor-${stream.name}`}
            />
          ) : (
            <Text size="xs" c="dimmed">
              not used by a full refresh
            </Text>
          )}
        </Table.Td>
        <Table.Td>
          <UnstyledButton onClick={() => setOpen(!open)} aria-expanded={open} data-testid={`conn-stream-columns-${stream.name}`}>
            <Group gap={4} wrap="nowrap">
              <Chevron size={14} />
              <Text size="sm" c={errors.selected_columns ? "red" : undefined}>
                {columnCount}
              </Text>
            </Group>
          </UnstyledButton>
        </Table.Td>
      </Table.Tr>
      {open && (
        <Table.Tr>
          <Table.Td />
          <Table.Td colSpan={5}>
            <ColumnPicker stream={stream} error={errors.selected_columns} onChange={onChange} disabled={off} />
          </Table.Td>
        </Table.Tr>
      )}
    </Fragment>
  );
}

/** Per stream: selected, sync mode (what it supports), destination mode, primary key, cursor, columns. */
export function ConnectionStreamsEditor({
  streams,
  onChange,
  errors,
  disabled = false,
}: {
  streams: ConnectionStream[];
  onChange: (streams: ConnectionStream[]) => void;
  errors: StreamErrors;
  disabled?: boolean;
}) {
  const [search, setSearch] = useState("");
  const selected = streams.filter((s) => s.selected).length;
  const shown = streams.filter((s) => s.name.toLowerCase().includes(search.trim().toLowerCase()));
  const replace = (next: ConnectionStream) => onChange(streams.map((s) => (s.name === next.name ? next : s)));
  const setAll = (on: boolean) => {
    const names = new Set(shown.map((s) => s.name));
    onChange(streams.map((s) => (names.has(s.name) ? { ...s, selected: on } : s)));
  };
  const shownSelected = shown.filter((s) => s.selected).length;

  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Text size="sm" c="dimmed" data-testid="streams-selected-count">
          {selected} of {streams.length} streams selected
        </Text>
        {streams.length > 8 && (
          <TextInput
            size="xs"
            placeholder="Filter streams"
            aria-label="Filter streams"
            leftSection={<IconSearch size={14} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            data-testid="streams-search"
          />
        )}
      </Group>
      {errors.general && (
        <Alert color="red" variant="light" data-testid="streams-error">
          {errors.general}
        </Alert>
      )}
      {streams.length === 0 ? (
        <Text size="sm" c="dimmed">
          The connector reported no streams.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={900}>
          <Table verticalSpacing="xs" data-testid="connection-streams">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <Checkbox
                    aria-label="Select all streams"
                    checked={shown.length > 0 && shownSelected === shown.length}
                    indeterminate={shownSelected > 0 && shownSelected < shown.length}
                    disabled={disabled}
                    onChange={(e) => setAll(e.currentTarget.checked)}
                    data-testid="streams-select-all"
                  />
                </Table.Th>
                <Table.Th>Stream</Table.Th>
                <Table.Th>Sync mode</Table.Th>
                <Table.Th>Destination</Table.Th>
                <Table.Th>Primary key</Table.Th>
                <Table.Th>Cursor</Table.Th>
                <Table.Th>Columns</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {shown.map((s) => (
                <StreamRow key={s.name} stream={s} errors={errors.byStream[s.name]} onChange={replace} disabled={disabled} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Group gap="xs">
        <Badge variant="light" color="gray">
          Full refresh
        </Badge>
        <Text size="xs" c="dimmed">
          reads everything each time (overwrite replaces the table).
        </Text>
        <Badge variant="light" color="teal">
          Incremental
        </Badge>
        <Text size="xs" c="dimmed">
          reads only records newer than the cursor; deduplicate keeps one row per primary key (plain append may load
          again the records of a sync that failed midway).
        </Text>
      </Group>
      {Object.keys(errors.byStream).some((n) => !streams.some((s) => s.name === n)) && (
        <Text size="xs" c="red" role="alert">
          {Object.entries(errors.byStream)
            .filter(([n]) => !streams.some((s) => s.name === n))
            .flatMap(([, e]) => Object.values(e))
            .join(" ")}
        </Text>
      )}
    </Stack>
  );
}
