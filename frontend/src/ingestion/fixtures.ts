/** Test data shaped like the API's answers. */
export const connector = (slug: string, name: string, category: string, favourite: boolean) => ({
  name, slug, package: `airbyte-source-${slug}`, version: "1.0.0", category, summary: `${name} source`,
  docs_url: `https://docs.airbyte.com/integrations/sources/${slug}`, favourite,
});

export const catalogue = [
  connector("commcare", "CommCare", "forms & surveys", true),
  connector("google-sheets", "Google Sheets", "spreadsheets & files", true),
  connector("stripe", "Stripe", "finance", false),
];

/** An Airbyte-style connectionSpecification: order, oneOf with const discriminators, secrets, pattern, examples. */
export const commcareSpec = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Commcare Source Spec",
  type: "object",
  required: ["api_key", "app_id", "start_date"],
  additionalProperties: true,
  properties: {
    app_id: { type: "string", title: "Application ID", order: 1 },
    api_key: { type: "string", title: "API Key", airbyte_secret: true, order: 0 },
    start_date: {
      type: "string", title: "Start date", format: "date-time", order: 2,
      pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", examples: ["2022-10-01T00:00:00Z"],
    },
    credentials: {
      title: "Authentication", type: "object", order: 3,
      oneOf: [
        { title: "Project key", type: "object", required: ["auth_type"], properties: { auth_type: { type: "string", const: "key", order: 0 } } },
        {
          title: "OAuth", type: "object", required: ["auth_type", "client_id", "client_secret"],
          properties: {
            auth_type: { type: "string", const: "oauth", order: 0 },
            client_id: { type: "string", title: "Client ID", order: 1 },
            client_secret: { type: "string", title: "Client secret", order: 2 },
          },
        },
      ],
    },
    forms: { type: "array", title: "Form IDs", items: { type: "string" }, order: 4 },
    region: { type: "string", title: "Region", enum: ["us", "eu"], default: "eu", order: 5 },
  },
};

export const commcareSpecOut = {
  slug: "commcare", name: "CommCare", package: "airbyte-source-commcare", version: "0.1.0",
  documentation_url: "https://docs.airbyte.com/integrations/sources/commcare",
  spec: commcareSpec,
  secret_paths: [["api_key"], ["credentials", "client_secret"]],
};

export const savedSource = (over: Record<string, unknown> = {}) => ({
  id: 7, name: "Field forms", connector_slug: "commcare", connector_name: "CommCare", package: "airbyte-source-commcare",
  version: "0.1.0",
  config: { api_key: "********", app_id: "app-1", start_date: "2024-01-01T00:00:00Z", credentials: { auth_type: "key" }, region: "eu" },
  created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-02T00:00:00Z", last_checked_at: "2026-01-02T00:00:00Z",
  last_check_ok: true, last_check_message: "Connected.", ...over,
});
