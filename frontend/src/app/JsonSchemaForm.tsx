import "./JsonSchemaForm.css";
import { Button, FileButton, Group, NativeSelect, PasswordInput, Stack, Textarea } from "@mantine/core";
import { IconUpload } from "@tabler/icons-react";
import type RjsfForm from "@rjsf/core";
import { withTheme, type IChangeEvent } from "@rjsf/core";
// Mantine's templates and widgets, imported one by one: the date widgets (which need @mantine/dates and
// dayjs plugins) are left out, so dates use rjsf's native <input type="date"> in Mantine's text input.
import mantineTemplates from "@rjsf/mantine/lib/templates/index.js";
import CheckboxesWidget from "@rjsf/mantine/lib/widgets/CheckboxesWidget.js";
import CheckboxWidget from "@rjsf/mantine/lib/widgets/CheckboxWidget.js";
import MantineSelectWidget from "@rjsf/mantine/lib/widgets/SelectWidget.js";
import RadioWidget from "@rjsf/mantine/lib/widgets/RadioWidget.js";
import RangeWidget from "@rjsf/mantine/lib/widgets/RangeWidget.js";
import TextareaWidget from "@rjsf/mantine/lib/widgets/TextareaWidget.js";
import {
  ariaDescribedByIds,
  enumOptionSelectedValue,
  enumOptionValueDecoder,
  enumOptionValueEncoder,
  getOptionValueFormat,
  labelValue,
  type ErrorSchema,
  type RJSFSchema,
  type UiSchema,
  type WidgetProps,
} from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useImperativeHandle, useMemo, useRef, type Ref } from "react";

/**
 * The value the API sends back for a secret that is set (and accepts back, meaning "keep the stored one").
 * Secret widgets show it as an empty input with the placeholder "unchanged".
 */
export const SECRET_MASK = "********";

function errorText(rawErrors?: string[]) {
  return rawErrors && rawErrors.length > 0 ? rawErrors.join("\n") : undefined;
}

/** Mantine's rjsf field template leaves the description to the widget. */
function descriptionOf({ schema, options, hideLabel }: WidgetProps) {
  return hideLabel ? undefined : (options.description as string | undefined) ?? schema.description;
}

/** Keeps the mask while the input is left empty, so an untouched secret is sent back as "keep". */
function useSecret(props: WidgetProps) {
  const wasSet = useRef(props.value === SECRET_MASK);
  const masked = props.value === SECRET_MASK;
  return {
    value: masked ? "" : ((props.value as string | undefined) ?? ""),
    placeholder: wasSet.current ? "unchanged" : props.placeholder || undefined,
    change: (text: string) => props.onChange(text === "" ? (wasSet.current ? SECRET_MASK : props.options.emptyValue) : text),
  };
}

/** Password input for secrets (`ui:widget: "password"`). */
function SecretWidget(props: WidgetProps) {
  const { id, htmlName, required, disabled, readonly, autofocus, label, hideLabel, rawErrors, onBlur, onFocus } = props;
  const secret = useSecret(props);
  return (
    <PasswordInput
      id={id}
      name={htmlName || id}
      label={labelValue(label || undefined, hideLabel, false)}
      description={descriptionOf(props)}
      required={required && !secret.placeholder}
      disabled={disabled || readonly}
      autoFocus={autofocus}
      value={secret.value}
      placeholder={secret.placeholder}
      autoComplete="new-password"
      onChange={(e) => secret.change(e.currentTarget.value)}
      onBlur={(e) => onBlur(id, e.currentTarget.value)}
      onFocus={(e) => onFocus(id, e.currentTarget.value)}
      error={errorText(rawErrors)}
      aria-describedby={ariaDescribedByIds(id)}
    />
  );
}

/** A textarea whose text can also be loaded from a file (`ui:widget: "fileText"`), e.g. a service-account JSON key. */
function FileTextWidget(props: WidgetProps) {
  const { id, htmlName, required, disabled, readonly, label, hideLabel, rawErrors, options, onBlur, onFocus } = props;
  const secret = useSecret(props);
  const load = async (file: File | null) => {
    if (file) secret.change(await file.text());
  };
  return (
    <Stack gap={4}>
      <Textarea
        id={id}
        name={htmlName || id}
        label={labelValue(label || undefined, hideLabel, false)}
        description={descriptionOf(props)}
        required={required && !secret.placeholder}
        disabled={disabled || readonly}
        value={secret.value}
        placeholder={secret.placeholder}
        autosize
        minRows={typeof options.rows === "number" ? options.rows : 4}
        maxRows={12}
        styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)", fontSize: 12 } }}
        onChange={(e) => secret.change(e.currentTarget.value)}
        onBlur={(e) => onBlur(id, e.currentTarget.value)}
        onFocus={(e) => onFocus(id, e.currentTarget.value)}
        error={errorText(rawErrors)}
        aria-describedby={ariaDescribedByIds(id)}
      />
      {!(disabled || readonly) && (
        <Group>
          <FileButton onChange={(f) => void load(f)} accept=".json,application/json,text/plain">
            {(p) => (
              <Button {...p} size="xs" variant="default" leftSection={<IconUpload size={14} />}>
                Load from file
              </Button>
            )}
          </FileButton>
        </Group>
      )}
    </Stack>
  );
}

/** Single selects are native <select>s (simple to use and to drive in browser tests); multiple ones stay Mantine's. */
function SelectWidget(props: WidgetProps) {
  const { id, htmlName, value, required, disabled, readonly, label, hideLabel, multiple, rawErrors, options, onChange, onBlur, onFocus } = props;
  if (multiple) return <MantineSelectWidget {...props} />;
  const { enumOptions = [], enumDisabled, emptyValue } = options;
  const format = getOptionValueFormat(options);
  const selected = enumOptionSelectedValue(value, enumOptions, false, format, "") as string;
  const data = enumOptions.map((o, i) => ({
    value: enumOptionValueEncoder(o.value, i, format),
    label: o.label,
    disabled: Array.isArray(enumDisabled) && enumDisabled.includes(o.value),
  }));
  if (!required || selected === "") data.unshift({ value: "", label: "", disabled: false });
  const decode = (v: string) => enumOptionValueDecoder(v, enumOptions, format, emptyValue);
  return (
    <NativeSelect
      id={id}
      name={htmlName || id}
      label={labelValue(label || undefined, hideLabel, false)}
      description={descriptionOf(props)}
      required={required}
      disabled={disabled || readonly}
      value={selected}
      data={data}
      onChange={(e) => onChange(decode(e.currentTarget.value))}
      onBlur={(e) => onBlur(id, decode(e.currentTarget.value))}
      onFocus={(e) => onFocus(id, decode(e.currentTarget.value))}
      error={errorText(rawErrors)}
      aria-describedby={ariaDescribedByIds(id)}
    />
  );
}

const ThemedForm = withTheme({
  templates: mantineTemplates,
  widgets: {
    CheckboxesWidget,
    CheckboxWidget,
    RadioWidget,
    RangeWidget,
    TextareaWidget,
    PasswordWidget: SecretWidget,
    SelectWidget,
    fileText: FileTextWidget,
  },
});

export type JsonSchema = RJSFSchema;
export type { UiSchema };

/** Maps an API error's `fields` (e.g. {"config.host": "..."} or {"host": "..."}) to rjsf's nested ErrorSchema. */
export function fieldsToErrorSchema(fields: Record<string, string>, prefix = ""): ErrorSchema {
  const root: Record<string, unknown> = {};
  for (const [key, reason] of Object.entries(fields)) {
    const path = (prefix && key.startsWith(prefix) ? key.slice(prefix.length) : key).split(".").filter(Boolean);
    let node = root;
    for (const part of path) node = (node[part] ??= {}) as Record<string, unknown>;
    ((node.__errors ??= []) as string[]).push(reason);
  }
  return root as ErrorSchema;
}

export interface JsonSchemaFormHandle {
  /** Runs the schema validation, shows its errors and says whether the data is valid. */
  validate: () => boolean;
}

/**
 * A form generated from a JSON Schema (draft-07) with react-jsonschema-form and Mantine widgets: strings,
 * numbers, enums, oneOf, arrays, checkboxes, secrets (`ui:widget: "password"`) and text loaded from a file
 * (`ui:widget: "fileText"`). It has no submit button: the owner calls `ref.current.validate()` and sends
 * `formData` itself; API field errors come in through `fieldErrors` (keys may start with `errorPrefix`).
 */
export function JsonSchemaForm<T = Record<string, unknown>>({
  schema,
  uiSchema,
  formData,
  onChange,
  fieldErrors,
  errorPrefix = "",
  disabled,
  ref,
}: {
  schema: JsonSchema;
  uiSchema?: UiSchema;
  formData: T;
  onChange: (data: T) => void;
  fieldErrors?: Record<string, string>;
  errorPrefix?: string;
  disabled?: boolean;
  ref?: Ref<JsonSchemaFormHandle>;
}) {
  const form = useRef<RjsfForm>(null);
  useImperativeHandle(ref, () => ({ validate: () => form.current?.validateForm() ?? true }), []);
  const extraErrors = useMemo(
    () => (fieldErrors && Object.keys(fieldErrors).length ? fieldsToErrorSchema(fieldErrors, errorPrefix) : undefined),
    [fieldErrors, errorPrefix],
  );
  return (
    <div className="dalgo-jsonschema-form">
      <ThemedForm
        ref={form}
        schema={schema}
        // The owner titles the form; the root object's title would repeat it.
        uiSchema={{ "ui:submitButtonOptions": { norender: true }, ...uiSchema, "ui:options": { label: false, ...uiSchema?.["ui:options"] } }}
        formData={formData}
        validator={validator}
        onChange={(e: IChangeEvent) => onChange(e.formData as T)}
        extraErrors={extraErrors}
        showErrorList={false}
        noHtml5Validate
        disabled={disabled}
        onError={() => undefined}
      />
    </div>
  );
}
