import type { JsonSchema, UiSchema } from "../app/JsonSchemaForm";

/**
 * Turns an Airbyte connector's `connectionSpecification` into what JsonSchemaForm renders well:
 *
 * - properties sorted by Airbyte's `order` keyword (also inside oneOf options and array items);
 * - `const` discriminators of oneOf options (e.g. `auth_type: "Client"`) hidden: the option select picks them;
 * - secrets (`secret_paths` from the API, plus any `airbyte_secret: true`) as password inputs, multiline
 *   secrets (service-account keys) as textareas that can load a file; other `multiline` strings as textareas;
 * - `examples` as placeholders; `airbyte_hidden` fields hidden;
 * - dates with a `pattern` typed as text (the browser's date-time picker would not match Airbyte's patterns);
 * - `additionalProperties: true` dropped (rjsf would offer to add arbitrary keys).
 */
export function specToForm(spec: unknown, secretPaths: string[][] = []): { schema: JsonSchema; uiSchema: UiSchema } {
  const schema = normalise(structuredClone((spec ?? {}) as Node)) as JsonSchema;
  if (!schema.type && schema.properties) schema.type = "object";
  const uiSchema: UiSchema = {};
  hint(schema as Node, uiSchema, false);
  for (const path of secretPaths) markSecret(uiSchema, path, schema as Node);
  return { schema, uiSchema };
}

type Node = Record<string, unknown> & {
  properties?: Record<string, Node>;
  oneOf?: Node[];
  anyOf?: Node[];
  items?: Node | Node[];
  order?: number;
};

const OPTION_KEYS = ["oneOf", "anyOf"] as const;

function normalise(node: Node): Node {
  if (!node || typeof node !== "object") return node;
  if (node.additionalProperties === true) delete node.additionalProperties;
  if (node.properties) {
    const entries = Object.entries(node.properties).map(([k, v], i) => [k, normalise(v), i] as const);
    entries.sort(([, a, ia], [, b, ib]) => orderOf(a, ia) - orderOf(b, ib) || ia - ib);
    node.properties = Object.fromEntries(entries.map(([k, v]) => [k, v]));
  }
  for (const key of OPTION_KEYS) {
    const options = node[key];
    if (Array.isArray(options)) node[key] = options.map(normalise);
  }
  if (node.items && typeof node.items === "object") {
    node.items = Array.isArray(node.items) ? node.items.map(normalise) : normalise(node.items);
  }
  return node;
}

function orderOf(node: Node, index: number): number {
  return typeof node?.order === "number" ? node.order : 10_000 + index;
}

function child(ui: UiSchema, key: string): UiSchema {
  return (ui[key] ??= {}) as UiSchema;
}

/** Adds widget hints for `node`'s properties into `ui` (the uiSchema of the object `node`). */
function hint(node: Node, ui: UiSchema, inOption: boolean) {
  if (!node || typeof node !== "object") return;
  for (const [name, prop] of Object.entries(node.properties ?? {})) {
    const own = child(ui, name);
    if (inOption && prop.const !== undefined) own["ui:widget"] = "hidden";
    if (prop.airbyte_hidden === true) own["ui:widget"] = "hidden";
    if (prop.airbyte_secret === true) setSecret(own, prop);
    else if (prop.multiline === true && prop.type === "string") own["ui:widget"] ??= "textarea";
    const examples = prop.examples;
    if (Array.isArray(examples) && examples.length && ["string", "number"].includes(typeof examples[0])) {
      own["ui:placeholder"] ??= `e.g. ${String(examples[0])}`;
    }
    if ((prop.format === "date-time" || prop.format === "date") && typeof prop.pattern === "string") {
      own["ui:widget"] ??= "text";
      if (typeof prop.pattern_descriptor === "string") own["ui:placeholder"] ??= prop.pattern_descriptor;
    }
    walkValue(prop, own);
  }
}

/** Descends into a property's value: its own properties, its oneOf options, its array items. */
function walkValue(prop: Node, own: UiSchema) {
  if (prop.properties) hint(prop, own, false);
  for (const key of OPTION_KEYS) {
    const options = prop[key];
    if (Array.isArray(options)) for (const option of options) hint(option, own, true);
  }
  if (prop.items && typeof prop.items === "object" && !Array.isArray(prop.items)) {
    const items = child(own, "items");
    if (prop.items.airbyte_secret === true) setSecret(items, prop.items);
    walkValue(prop.items, items);
  }
}

function setSecret(ui: UiSchema, prop?: Node) {
  if (ui["ui:widget"] === "hidden") return;
  ui["ui:widget"] = prop?.multiline === true ? "fileText" : "password";
}

/** Marks the field at an API secret path, e.g. ["credentials", "client_secret"], as a password input. */
function markSecret(uiSchema: UiSchema, path: string[], schema: Node) {
  const parts = path.filter((p) => !OPTION_KEYS.includes(p as never) && p !== "properties" && !/^\d+$/.test(String(p)));
  if (!parts.length) return;
  let ui = uiSchema;
  for (const part of parts) ui = child(ui, part === "*" ? "items" : part);
  setSecret(ui, findProp(schema, parts));
}

function findProp(node: Node, parts: string[]): Node | undefined {
  if (!parts.length) return node;
  const [head, ...rest] = parts;
  const candidates: Node[] = [node, ...OPTION_KEYS.flatMap((k) => (Array.isArray(node[k]) ? (node[k] as Node[]) : []))];
  for (const c of candidates) {
    const next = head === "*" || head === "items" ? (c.items as Node | undefined) : c.properties?.[head];
    if (next) {
      const found = findProp(next, rest);
      if (found) return found;
    }
  }
  return undefined;
}
