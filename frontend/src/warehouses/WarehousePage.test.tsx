import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, makeMe, mockApi, renderPage } from "../test/utils";
import { uiSchemaFor, WarehousePage } from "./WarehousePage";

const types = [
  {
    type: "postgres", label: "PostgreSQL", description: "Your own PostgreSQL database.",
    schema: {
      type: "object", required: ["host", "port", "database", "user", "password"],
      properties: {
        host: { type: "string", title: "Host" },
        port: { type: "integer", title: "Port", default: 5432 },
        database: { type: "string", title: "Database" },
        user: { type: "string", title: "User" },
        password: { type: "string", title: "Password" },
        sslmode: { type: "string", title: "SSL mode", enum: ["disable", "require"], default: "require" },
      },
    },
    ui_schema: {}, secret_fields: ["password"],
  },
  {
    type: "duckdb", label: "DuckDB", description: "A DuckDB file on this server.",
    schema: { type: "object", properties: {} }, ui_schema: {}, secret_fields: [],
  },
];
const saved = {
  type: "postgres", name: "Main", config: { host: "db", port: 5432, database: "ngo", user: "dalgo", password: "********", sslmode: "require" },
  secrets_set: ["password"], created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z",
  last_tested_at: "2026-01-01T00:00:00Z", last_test_ok: true, last_test_message: "Connected: 3 schemas.",
};
const ANALYST = ["org.view", "warehouse.view", "explore.view"];

describe("WarehousePage", () => {
  it("sets up a warehouse: type cards (DuckDB first), generated form, test, then field errors from a failed save", { timeout: 15_000 }, async () => {
    const { calls } = mockApi({
      "GET /api/warehouse/types": () => types,
      "GET /api/warehouse": () => json({ detail: "No warehouse.", code: "no_warehouse", fields: {} }, 404),
      "POST /api/warehouse/test": () => ({
        ok: false, code: "warehouse_auth_failed", message: "Password authentication failed.", fields: { "config.password": "Refused by the server." },
      }),
      "PUT /api/warehouse": () =>
        json({ detail: "The warehouse refused the credentials.", code: "warehouse_auth_failed", fields: { "config.password": "Wrong password." } }, 400),
    });
    renderPage(<WarehousePage />, { me: makeMe() });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId("warehouse-setup"));
    const cards = screen.getAllByTestId(/^warehouse-type-/);
    expect(cards.map((c) => c.dataset.testid)).toEqual(["warehouse-type-duckdb", "warehouse-type-postgres"]);
    expect(cards[0]).toHaveTextContent("Recommended");
    await user.click(screen.getByTestId("warehouse-type-postgres"));
    expect(screen.getByTestId("warehouse-name")).toHaveValue("PostgreSQL");
    await user.type(screen.getByLabelText(/^Host/), "db.ngo.org");
    await user.type(screen.getByLabelText(/^Database/), "ngo");
    await user.type(screen.getByLabelText(/^User/), "dalgo");
    await user.type(screen.getByLabelText(/^Password/), "nope");
    await user.click(screen.getByTestId("warehouse-test"));
    expect(await screen.findByTestId("warehouse-test-result")).toHaveTextContent("Password authentication failed.");
    await waitFor(() => expect(screen.getByLabelText(/^Password/)).toHaveAccessibleDescription("Refused by the server."));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      type: "postgres", name: "PostgreSQL",
      config: { host: "db.ngo.org", port: 5432, database: "ngo", user: "dalgo", password: "nope", sslmode: "require" },
    });
    await user.click(screen.getByTestId("warehouse-save"));
    await waitFor(() => expect(screen.getByLabelText(/^Password/)).toHaveAccessibleDescription("Wrong password."));
    expect(screen.queryByTestId("warehouse-test-result")).not.toBeInTheDocument();
    expect(screen.getByTestId("api-error")).toHaveTextContent("refused the credentials");
  });

  it("does not send the form while required fields are empty", async () => {
    const { calls } = mockApi({
      "GET /api/warehouse/types": () => types,
      "GET /api/warehouse": () => json({ detail: "No warehouse.", code: "no_warehouse", fields: {} }, 404),
    });
    renderPage(<WarehousePage />, { me: makeMe() });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId("warehouse-setup"));
    await user.click(screen.getByTestId("warehouse-type-postgres"));
    await user.click(screen.getByTestId("warehouse-save"));
    expect((await screen.findAllByText(/required property/)).length).toBeGreaterThan(0);
    expect(calls.some((c) => c.method === "PUT")).toBe(false);
  });

  it("shows an analyst the settings read-only with Check connection, without save or delete", async () => {
    const { calls } = mockApi({
      "GET /api/warehouse/types": () => types,
      "GET /api/warehouse": () => saved,
      "POST /api/warehouse/check": () => ({ ok: true, code: "ok", message: "Connected: 3 schemas." }),
    });
    renderPage(<WarehousePage />, { me: makeMe([{ role: "analyst", permissions: ANALYST }]) });
    const details = await screen.findByTestId("warehouse-details");
    expect(within(details).getByText("Host").closest("tr")).toHaveTextContent("db");
    expect(within(details).getByText("Password").closest("tr")).toHaveTextContent("set");
    expect(screen.getByTestId("warehouse-last-test")).toHaveTextContent("ok");
    expect(screen.queryByTestId("warehouse-save")).not.toBeInTheDocument();
    expect(screen.queryByTestId("warehouse-test")).not.toBeInTheDocument();
    expect(screen.queryByTestId("warehouse-delete")).not.toBeInTheDocument();
    await userEvent.setup().click(screen.getByTestId("warehouse-check"));
    expect(await screen.findByTestId("warehouse-check-result")).toHaveTextContent("Connected: 3 schemas.");
    expect(calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual(["/api/warehouse/check"]);
  });

  it("lets an admin keep a stored secret and delete after typing the name", async () => {
    const { calls } = mockApi({
      "GET /api/warehouse/types": () => types,
      "GET /api/warehouse": () => saved,
      "PUT /api/warehouse": () => saved,
      "GET /api/warehouse/dependents": () => ({ items: [{ kind: "connection", name: "Kobo → Main" }], message: "1 connection loads into it." }),
      "DELETE /api/warehouse": () => new Response(null, { status: 204 }),
    });
    renderPage(<WarehousePage />, { me: makeMe() });
    const user = userEvent.setup();
    const password = await screen.findByLabelText(/^Password/);
    expect(password).toHaveAttribute("placeholder", "unchanged");
    await user.click(screen.getByTestId("warehouse-save"));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    expect(calls.find((c) => c.method === "PUT")!.body).toMatchObject({ name: "Main", config: { password: "********", host: "db" } });

    await user.click(screen.getByTestId("warehouse-delete"));
    expect(await screen.findByText(/Kobo → Main/)).toBeInTheDocument();
    const submit = screen.getByTestId("warehouse-delete-submit");
    expect(submit).toBeDisabled();
    await user.type(screen.getByTestId("warehouse-delete-confirm"), "Main");
    expect(submit).toBeEnabled();
    await user.click(submit);
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE")).toBe(true));
    expect(calls.find((c) => c.method === "DELETE")!.search).toBe("?confirm=Main");
  });
});

describe("uiSchemaFor", () => {
  it("makes secrets password inputs and textareas loadable from a file", () => {
    expect(
      uiSchemaFor({
        ...types[0], type: "bigquery",
        ui_schema: { service_account_json: { "ui:widget": "textarea", "ui:options": { rows: 6 } }, ca: { "ui:widget": "textarea" } },
        secret_fields: ["service_account_json", "token"],
      }),
    ).toEqual({
      service_account_json: { "ui:widget": "fileText", "ui:options": { rows: 6 } },
      ca: { "ui:widget": "fileText" },
      token: { "ui:widget": "password" },
    });
  });
});
