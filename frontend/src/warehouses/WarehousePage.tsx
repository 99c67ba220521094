import { Alert, Badge, Button, Card, Group, List, Loader, Modal, SimpleGrid, Stack, Table, Text, TextInput, ThemeIcon, Title, UnstyledButton } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { IconCircleCheck, IconCircleX, IconDatabase, IconPlugConnected, IconTrash } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useRef, useState } from "react";
import { isApiError } from "../api/errors";
import { ApiErrorAlert } from "../app/ApiErrorAlert";
import { DangerFooter } from "../app/DangerFooter";
import { formatDateTime } from "../app/format";
import { JsonSchemaForm, SECRET_MASK, type JsonSchemaFormHandle, type UiSchema } from "../app/JsonSchemaForm";
import { useCan, useOrgSlug } from "../app/session";
import { useApiMutation } from "../app/useApiMutation";
import { warehouseApi, type TestResult, type Warehouse, type WarehouseType, type WarehouseTypeName } from "./api";

const TYPE_ORDER: WarehouseTypeName[] = ["duckdb", "postgres", "bigquery"];

function useWarehouse() {
  const slug = useOrgSlug();
  return useQuery({ queryKey: ["org", slug, "warehouse"], queryFn: warehouseApi.get });
}

function TestResultAlert({ result, testId }: { result: TestResult; testId: string }) {
  return (
    <Alert
      color={result.ok ? "green" : "red"}
      variant="light"
      icon={result.ok ? <IconCircleCheck size={18} /> : <IconCircleX size={18} />}
      title={result.ok ? "Connection works" : "Connection failed"}
      data-testid={testId}
      data-ok={result.ok}
    >
      {result.message}
    </Alert>
  );
}

/** Type, name, last test and "Check connection" (any role that may view the warehouse). */
function StatusCard({ warehouse, types }: { warehouse: Warehouse; types: WarehouseType[] }) {
  const slug = useOrgSlug();
  const check = useApiMutation(warehouseApi.check, { invalidate: [["org", slug, "warehouse"]] });
  const label = types.find((t) => t.type === warehouse.type)?.label ?? warehouse.type;
  return (
    <Card withBorder data-testid="warehouse-status">
      <Group justify="space-between" mb="sm">
        <Group gap="sm">
          <ThemeIcon variant="light" size="lg">
            <IconDatabase size={20} />
          </ThemeIcon>
          <div>
            <Text fw={600}>{warehouse.name}</Text>
            <Text size="sm" c="dimmed">
              {label}
            </Text>
          </div>
        </Group>
        <Button
          variant="default"
          leftSection={<IconPlugConnected size={16} />}
          loading={check.isPending}
          onClick={() => check.mutate()}
          data-testid="warehouse-check"
        >
          Check connection
        </Button>
      </Group>
      <Group gap="xs">
        <Text size="sm" c="dimmed">
          Last test:
        </Text>
        {warehouse.last_test_ok == null ? (
          <Text size="sm">never</Text>
        ) : (
          <>
            <Badge color={warehouse.last_test_ok ? "green" : "red"} variant="light" data-testid="warehouse-last-test">
              {warehouse.last_test_ok ? "ok" : "failed"}
            </Badge>
            <Text size="sm">{formatDateTime(warehouse.last_tested_at)}</Text>
            {warehouse.last_test_message && (
              <Text size="sm" c="dimmed">
                {warehouse.last_test_message}
              </Text>
            )}
          </>
        )}
      </Group>
      <Stack mt="sm" gap="xs">
        <ApiErrorAlert error={check.error} title="Could not check the connection" />
        {check.data && <TestResultAlert result={check.data} testId="warehouse-check-result" />}
      </Stack>
    </Card>
  );
}

/** The saved settings as a read-only table (roles without warehouse.edit). */
function DetailsCard({ warehouse, type }: { warehouse: Warehouse; type?: WarehouseType }) {
  const props = (type?.schema.properties ?? {}) as Record<string, { title?: string }>;
  const show = (key: string, value: unknown) => {
    if (warehouse.secrets_set.includes(key) || value === SECRET_MASK) return <Badge variant="light">set</Badge>;
    if (value == null || value === "") return "—";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  };
  return (
    <Card withBorder data-testid="warehouse-details">
      <Title order={4} mb="sm">
        Settings
      </Title>
      <Table>
        <Table.Tbody>
          {Object.entries(warehouse.config).map(([key, value]) => (
            <Table.Tr key={key}>
              <Table.Td w={220} c="dimmed">
                {props[key]?.title ?? key}
              </Table.Td>
              <Table.Td style={{ wordBreak: "break-all" }}>{show(key, value)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed" mt="sm">
        Only admins can change the warehouse.
      </Text>
    </Card>
  );
}

function TypePicker({ types, value, onChange }: { types: WarehouseType[]; value: WarehouseTypeName | null; onChange: (t: WarehouseTypeName) => void }) {
  return (
    <SimpleGrid cols={{ base: 1, sm: 3 }}>
      {types.map((t) => {
        const selected = t.type === value;
        return (
          <UnstyledButton key={t.type} onClick={() => onChange(t.type)} data-testid={`warehouse-type-${t.type}`} aria-pressed={selected}>
            <Card withBorder h="100%" padding="md" style={{ borderColor: selected ? "var(--mantine-color-blue-filled)" : undefined, borderWidth: selected ? 2 : 1 }}>
              <Group justify="space-between" gap={4} mb={4}>
                <Text fw={600}>{t.label}</Text>
                {t.type === "duckdb" && (
                  <Badge size="sm" color="green" variant="light" title="Managed by Dalgo, no setup">
                    Recommended
                  </Badge>
                )}
              </Group>
              <Text size="sm" c="dimmed">
                {t.description}
              </Text>
            </Card>
          </UnstyledButton>
        );
      })}
    </SimpleGrid>
  );
}

/**
 * The uiSchema of a type: secret fields are password inputs unless the type picks another widget, and
 * textareas (certificates, service-account keys) can also be loaded from a file.
 */
export function uiSchemaFor(type: WarehouseType): UiSchema {
  const ui: UiSchema = { ...type.ui_schema };
  for (const [field, own] of Object.entries(ui)) {
    if ((own as UiSchema)?.["ui:widget"] === "textarea") ui[field] = { ...(own as UiSchema), "ui:widget": "fileText" };
  }
  for (const field of type.secret_fields) {
    const own = (ui[field] ?? {}) as UiSchema;
    ui[field] = own["ui:widget"] ? own : { ...own, "ui:widget": "password" };
  }
  return ui;
}

/** Set-up / edit form: type cards, name, the type's generated config form, Test connection and Save. */
function EditForm({ types, warehouse, onDone }: { types: WarehouseType[]; warehouse: Warehouse | null; onDone?: () => void }) {
  const slug = useOrgSlug();
  const [type, setType] = useState<WarehouseTypeName | null>(warehouse?.type ?? (types.length === 1 ? types[0].type : null));
  const [config, setConfig] = useState<Record<string, unknown>>(warehouse?.config ?? {});
  const form = useForm({ initialValues: { name: warehouse?.name ?? "" } });
  const configForm = useRef<JsonSchemaFormHandle>(null);
  const current = types.find((t) => t.type === type);
  const uiSchema = useMemo(() => (current ? uiSchemaFor(current) : {}), [current]);

  const body = () => ({ type: type!, name: form.values.name.trim(), config });
  const test = useApiMutation(warehouseApi.test, { form });
  const save = useApiMutation(warehouseApi.save, {
    form,
    invalidate: [["org", slug, "warehouse"], ["org", slug, "explore"]],
    onSuccess: (w) => {
      notifications.show({ color: "green", message: `Warehouse "${w.name}" saved.` });
      test.reset();
      onDone?.();
    },
  });
  const lastError = save.error ?? test.error;
  const fieldErrors = isApiError(lastError) ? lastError.fields : test.data && !test.data.ok ? test.data.fields : undefined;

  const pickType = (t: WarehouseTypeName) => {
    if (t === type) return;
    setType(t);
    setConfig(t === warehouse?.type ? warehouse.config : {});
    test.reset();
    save.reset();
    if (!form.values.name) form.setFieldValue("name", types.find((x) => x.type === t)?.label ?? "");
  };
  const run = (mutation: typeof test | typeof save) => {
    const nameOk = !form.validate().hasErrors && form.values.name.trim() !== "";
    if (!nameOk) form.setFieldError("name", "Give the warehouse a name.");
    const configOk = configForm.current?.validate() ?? true;
    if (!nameOk || !configOk) return;
    (mutation === test ? save : test).reset();
    mutation.mutate(body());
  };

  return (
    <Card withBorder>
      <Stack>
        <Title order={4}>{warehouse ? "Change the warehouse" : "Set up a warehouse"}</Title>
        <TypePicker types={types} value={type} onChange={pickType} />
        {current && (
          <>
            <TextInput label="Name" required data-testid="warehouse-name" {...form.getInputProps("name")} />
            <JsonSchemaForm
              key={current.type}
              ref={configForm}
              schema={current.schema}
              uiSchema={uiSchema}
              formData={config}
              onChange={setConfig}
              fieldErrors={fieldErrors}
              errorPrefix="config."
            />
            <ApiErrorAlert error={lastError} title={save.error ? "Could not save the warehouse" : "Could not test the connection"} />
            {test.data && <TestResultAlert result={test.data} testId="warehouse-test-result" />}
            <Group justify="flex-end">
              {onDone && (
                <Button variant="default" onClick={onDone}>
                  Cancel
                </Button>
              )}
              <Button
                variant="default"
                leftSection={<IconPlugConnected size={16} />}
                loading={test.isPending}
                disabled={save.isPending}
                onClick={() => run(test)}
                data-testid="warehouse-test"
              >
                Test connection
              </Button>
              <Button loading={save.isPending} disabled={test.isPending} onClick={() => run(save)} data-testid="warehouse-save">
                Save
              </Button>
            </Group>
            <Text size="xs" c="dimmed">
              Saving tests the connection first; secrets are stored encrypted and never shown again.
            </Text>
          </>
        )}
      </Stack>
    </Card>
  );
}

function DeleteModal({ warehouse, opened, onClose }: { warehouse: Warehouse; opened: boolean; onClose: () => void }) {
  const slug = useOrgSlug();
  const [confirm, setConfirm] = useState("");
  const dependents = useQuery({
    queryKey: ["org", slug, "warehouse", "dependents"],
    queryFn: warehouseApi.dependents,
    enabled: opened,
  });
  const close = () => {
    setConfirm("");
    remove.reset();
    onClose();
  };
  const remove = useApiMutation(warehouseApi.remove, {
    invalidate: [["org", slug, "warehouse"], ["org", slug, "explore"]],
    onSuccess: () => {
      notifications.show({ message: `Warehouse "${warehouse.name}" deleted.` });
      close();
    },
  });
  return (
    <Modal opened={opened} onClose={close} title="Delete the warehouse">
      <Stack>
        <Text size="sm">
          Dalgo forgets the connection to <b>{warehouse.name}</b>. The data in the warehouse itself is not touched
          {warehouse.type === "duckdb" ? ", except for a Dalgo-managed DuckDB file, which is deleted" : ""}.
        </Text>
        {dependents.isPending && <Loader size="sm" />}
        <ApiErrorAlert error={dependents.error} />
        {dependents.data && (
          <div data-testid="warehouse-dependents">
            {dependents.data.message && (
              <Text size="sm" mb={4}>
                {dependents.data.message}
              </Text>
            )}
            {dependents.data.items.length > 0 && (
              <List size="sm">
                {dependents.data.items.map((d) => (
                  <List.Item key={`${d.kind}:${d.name}`}>
                    {d.kind}: {d.name}
                  </List.Item>
                ))}
              </List>
            )}
          </div>
        )}
        <TextInput
          label={`Type "${warehouse.name}" to confirm`}
          value={confirm}
          onChange={(e) => setConfirm(e.currentTarget.value)}
          data-testid="warehouse-delete-confirm"
        />
        <DangerFooter
          error={remove.error}
          onCancel={close}
          onConfirm={() => remove.mutate(confirm)}
          loading={remove.isPending}
          disabled={confirm !== warehouse.name}
          testId="warehouse-delete-submit"
        />
      </Stack>
    </Modal>
  );
}

export function WarehousePage() {
  const slug = useOrgSlug();
  const canEdit = useCan("warehouse.edit");
  const [settingUp, setSettingUp] = useState(false);
  const [deleting, { open: openDelete, close: closeDelete }] = useDisclosure(false);
  const warehouse = useWarehouse();
  const types = useQuery({ queryKey: ["org", slug, "warehouse", "types"], queryFn: warehouseApi.types, staleTime: Infinity });
  const sortedTypes = useMemo(
    () => [...(types.data ?? [])].sort((a, b) => TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type)),
    [types.data],
  );
  const w = warehouse.data;

  return (
    <Stack gap="lg" data-testid="page-warehouse">
      <Group justify="space-between">
        <Title order={2}>Warehouse</Title>
        {w && canEdit && (
          <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={openDelete} data-testid="warehouse-delete">
            Delete
          </Button>
        )}
      </Group>
      <Text c="dimmed" size="sm">
        The database where Dalgo loads your sources, runs transformations and reads charts from.
      </Text>
      <ApiErrorAlert error={warehouse.error ?? types.error} />
      {(warehouse.isPending || types.isPending) && <Loader />}
      {w === null && !settingUp && (
        <Card withBorder padding="xl" data-testid="warehouse-empty">
          <Stack align="center" ta="center">
            <ThemeIcon size={64} radius="xl" variant="light">
              <IconDatabase size={34} />
            </ThemeIcon>
            <Text size="lg" fw={500}>
              No warehouse is set up for this organisation yet.
            </Text>
            {canEdit ? (
              <Button onClick={() => setSettingUp(true)} data-testid="warehouse-setup">
                Set up a warehouse
              </Button>
            ) : (
              <Text c="dimmed" size="sm">
                Ask an admin of your organisation to set one up.
              </Text>
            )}
          </Stack>
        </Card>
      )}
      {w && types.data && <StatusCard warehouse={w} types={types.data} />}
      {w && types.data && !canEdit && <DetailsCard warehouse={w} type={types.data.find((t) => t.type === w.type)} />}
      {canEdit && types.data && (w || (w === null && settingUp)) && (
        <EditForm key={w ? `${w.type}:${w.updated_at}` : "new"} types={sortedTypes} warehouse={w ?? null} onDone={w ? undefined : () => setSettingUp(false)} />
      )}
      {w && canEdit && <DeleteModal warehouse={w} opened={deleting} onClose={closeDelete} />}
    </Stack>
  );
}
