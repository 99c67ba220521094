import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { ALL_ADMIN, json, makeMe, mockApi, renderPage } from "../test/utils";
import { specToForm } from "./airbyteSpec";
import {
  appConfig, catalogue, commcareSpec, commcareSpecOut, customPackage, customPackageNext, customSource, customSpecOut,
  customSpecOutNext, savedSource,
} from "./fixtures";
import { IngestPage } from "./IngestPage";
import { EditSourcePage, NewSourcePage } from "./SourceFormPage";

const EDITOR = makeMe([{ permissions: [...ALL_ADMIN, "source.edit"] }]);
const ANALYST = makeMe([{ role: "analyst", permissions: ["org.view", "warehouse.view", "explore.view", "source.view"] }]);

/** A handler that answers only when `release()` is called (to see loading states). */
function deferred<T>(value: T) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { handler: async () => (await gate, value), release: () => release() };
}

describe("specToForm", () => {
  it("orders properties, hides oneOf discriminators, marks secrets from paths and airbyte_secret", () => {
    const { schema, uiSchema } = specToForm(commcareSpec, commcareSpecOut.secret_paths);
    expect(Object.keys(schema.properties!)).toEqual(["api_key", "app_id", "start_date", "credentials", "forms", "region"]);
    expect(schema.additionalProperties).toBeUndefined();
    expect(uiSchema.api_key["ui:widget"]).toBe("password");
    expect(uiSchema.credentials.client_secret["ui:widget"]).toBe("password");
    expect(uiSchema.credentials.auth_type["ui:widget"]).toBe("hidden");
    expect(uiSchema.start_date).toMatchObject({ "ui:widget": "text", "ui:placeholder": "e.g. 2022-10-01T00:00:00Z" });
    // The spec given is not modified.
    expect(Object.keys(commcareSpec.properties)[0]).toBe("app_id");
  });
});

describe("New source", () => {
  it("picks a connector, shows the install wait, renders oneOf + secrets, and checks the connection", { timeout: 20_000 }, async () => {
    const spec = deferred(commcareSpecOut);
    const { calls } = mockApi({
      "GET /api/connectors": () => catalogue,
      "GET /api/connectors/commcare/spec": spec.handler,
      "POST /api/sources/check": () => ({ ok: false, message: "401 Unauthorized: check the API key." }),
    });
    renderPage(<NewSourcePage />, { me: EDITOR, route: "/ingest/sources/new", path: "/ingest/sources/new" });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId("pick-commcare"));
    expect(await screen.findByText("Installing the CommCare connector…")).toBeInTheDocument();
    spec.release();

    const apiKey = await screen.findByLabelText(/^API Key/);
    expect(apiKey).toHaveAttribute("type", "password");
    expect(screen.getByTestId("source-name")).toHaveValue("CommCare");
    // oneOf: the option select; the const discriminator is not an input of its own.
    expect(screen.queryByLabelText(/auth_type/i)).not.toBeInTheDocument();
    expect(screen.queryByLabelText(/^Client secret/)).not.toBeInTheDocument();
    const choice = screen.getAllByRole("combobox").find((el) => within(el).queryByText("OAuth"))!;
    await user.selectOptions(choice, "OAuth");
    expect(await screen.findByLabelText(/^Client secret/)).toHaveAttribute("type", "password");
    expect(screen.getByLabelText(/^Start date/)).toHaveAttribute("placeholder", "e.g. 2022-10-01T00:00:00Z");

    await user.type(apiKey, "k3y");
    await user.type(screen.getByLabelText(/^Application ID/), "app-1");
    await user.type(screen.getByLabelText(/^Start date/), "2024-01-01T00:00:00Z");
    await user.type(screen.getByLabelText(/^Client ID/), "cid");
    await user.type(screen.getByLabelText(/^Client secret/), "shh");
    await user.click(screen.getByTestId("source-check"));
    expect(await screen.findByTestId("source-check-result")).toHaveTextContent("401 Unauthorized");
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      connector: "commcare",
      config: {
        api_key: "k3y", app_id: "app-1", start_date: "2024-01-01T00:00:00Z", region: "eu",
        credentials: { auth_type: "oauth", client_id: "cid", client_secret: "shh" },
      },
    });
  });

  it("shows an install failure with its detail", async () => {
    mockApi({
      "GET /api/connectors": () => catalogue,
      "GET /api/connectors/stripe/spec": () =>
        json({ detail: "pip could not install airbyte-source-stripe.", code: "connector_install_failed", fields: {} }, 502),
    });
    renderPage(<NewSourcePage />, { me: EDITOR, route: "/ingest/sources/new?connector=stripe", path: "/ingest/sources/new" });
    expect(await screen.findByTestId("api-error")).toHaveTextContent("could not install");
    expect(screen.getByTestId("spec-retry")).toBeInTheDocument();
  });

  it("maps the save's field errors under the inputs and shows the detail", { timeout: 20_000 }, async () => {
    const { calls } = mockApi({
      "GET /api/connectors": () => catalogue,
      "GET /api/connectors/commcare/spec": () => commcareSpecOut,
      "POST /api/sources": () =>
        json(
          {
            detail: "The connection check failed: 401 Unauthorized.",
            code: "check_failed",
            fields: { "config.api_key": "Refused by CommCare.", name: "A source with this name exists." },
          },
          400,
        ),
    });
    renderPage(<NewSourcePage />, { me: EDITOR, route: "/ingest/sources/new?connector=commcare", path: "/ingest/sources/new" });
    const user = userEvent.setup();
    const apiKey = await screen.findByLabelText(/^API Key/);
    // Required fields are checked before anything is sent.
    await user.click(screen.getByTestId("source-save"));
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await user.type(apiKey, "bad");
    await user.type(screen.getByLabelText(/^Application ID/), "app-1");
    await user.type(screen.getByLabelText(/^Start date/), "2024-01-01T00:00:00Z");
    await user.click(screen.getByTestId("source-save"));
    await waitFor(() => expect(screen.getByLabelText(/^API Key/)).toHaveAccessibleDescription("Refused by CommCare."));
    expect(screen.getByTestId("source-name")).toHaveAccessibleDescription("A source with this name exists.");
    expect(screen.getByTestId("api-error")).toHaveTextContent("The connection check failed: 401 Unauthorized.");
    expect(calls.find((c) => c.method === "POST")!.body).toMatchObject({ connector: "commcare", name: "CommCare", config: { api_key: "bad" } });
  });
});

describe("Sources list", () => {
  it("lists sources with actions for editors, and deletes after confirmation", async () => {
    let sources = [savedSource()];
    const { calls } = mockApi({
      "GET /api/sources": () => sources,
      "DELETE /api/sources/7": () => {
        sources = [];
        return json(null, 204);
      },
    });
    renderPage(<IngestPage />, { me: EDITOR, route: "/ingest" });
    const table = await screen.findByTestId("sources-table");
    expect(within(table).getByTestId("source-row-7")).toHaveTextContent("Field forms");
    expect(within(table).getByTestId("source-row-7")).toHaveTextContent("CommCare");
    expect(screen.getByTestId("source-last-check-7")).toHaveTextContent("ok");
    expect(screen.getByTestId("source-new")).toBeInTheDocument();
    expect(screen.getByTestId("source-edit-7")).toHaveAttribute("href", "/ingest/sources/7");
    const user = userEvent.setup();
    await user.click(screen.getByTestId("source-delete-7"));
    await user.click(await screen.findByTestId("source-delete-submit"));
    expect(await screen.findByTestId("sources-empty")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/sources/7")).toBe(true);
  });

  it("analysts see sources read-only and can check them", async () => {
    const { calls } = mockApi({
      "GET /api/sources": () => [savedSource({ last_check_ok: null, last_checked_at: null })],
      "POST /api/sources/7/check": () => ({ ok: true, message: "Connected." }),
    });
    renderPage(<IngestPage />, { me: ANALYST, route: "/ingest" });
    await screen.findByTestId("sources-table");
    expect(screen.getByTestId("source-last-check-7")).toHaveTextContent("never checked");
    expect(screen.queryByTestId("source-new")).not.toBeInTheDocument();
    expect(screen.queryByTestId("source-edit-7")).not.toBeInTheDocument();
    expect(screen.queryByTestId("source-delete-7")).not.toBeInTheDocument();
    await userEvent.setup().click(screen.getByTestId("source-check-7"));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/api/sources/7/check")).toBe(true));
  });

  it("analysts get the source page without a form", async () => {
    const { calls } = mockApi({ "GET /api/sources/7": () => savedSource() });
    renderPage(<EditSourcePage />, { me: ANALYST, route: "/ingest/sources/7", path: "/ingest/sources/:id" });
    const details = await screen.findByTestId("source-details");
    expect(details).toHaveTextContent("app-1");
    expect(within(details).getByText("set")).toBeInTheDocument();
    expect(screen.queryByTestId("source-save")).not.toBeInTheDocument();
    expect(screen.queryByTestId("source-delete")).not.toBeInTheDocument();
    expect(screen.getByTestId("source-check")).toBeInTheDocument();
    expect(calls.some((c) => c.path.endsWith("/spec"))).toBe(false);
  });

  it("the empty state invites editors to add the first source", async () => {
    mockApi({ "GET /api/sources": () => [] });
    renderPage(<IngestPage />, { me: EDITOR, route: "/ingest" });
    expect(await screen.findByTestId("sources-empty")).toHaveTextContent("CommCare");
    expect(screen.getByTestId("source-new")).toHaveAttribute("href", "/ingest/sources/new");
  });
});

describe("Edit source", () => {
  it("prefills the form with secrets unchanged and saves with the mask kept", { timeout: 20_000 }, async () => {
    const { calls } = mockApi({
      "GET /api/sources/7": () => savedSource(),
      "GET /api/connectors/commcare/spec": () => commcareSpecOut,
      "POST /api/sources/check": () => ({ ok: true, message: "Connected." }),
      "PUT /api/sources/7": async (req) => savedSource(await req.json()),
    });
    renderPage(<EditSourcePage />, { me: EDITOR, route: "/ingest/sources/7", path: "/ingest/sources/:id" });
    const apiKey = await screen.findByLabelText(/^API Key/);
    expect(apiKey).toHaveValue("");
    expect(apiKey).toHaveAttribute("placeholder", "unchanged");
    expect(screen.getByLabelText(/^Application ID/)).toHaveValue("app-1");
    const user = userEvent.setup();
    await user.click(screen.getByTestId("source-check"));
    expect(await screen.findByTestId("source-check-result")).toHaveTextContent("Connected.");
    expect(calls.find((c) => c.method === "POST")!.body).toMatchObject({ connector: "commcare", source_id: 7, config: { api_key: "********" } });
    await user.clear(screen.getByTestId("source-name"));
    await user.type(screen.getByTestId("source-name"), "Forms");
    await user.click(screen.getByTestId("source-save"));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    expect(calls.find((c) => c.method === "PUT")!.body).toMatchObject({ name: "Forms", config: { api_key: "********", app_id: "app-1" } });
    expect(calls.find((c) => c.method === "PUT")!.body).not.toHaveProperty("package"); // only custom sources send one
    expect(screen.queryByTestId("custom-package")).not.toBeInTheDocument();
    expect(await screen.findByTestId("elsewhere")).toBeInTheDocument();
  });
});

describe("Source streams", () => {
  it("discovers the streams on demand (refresh=true) and lists them with columns, modes, key and cursor", async () => {
    const { calls } = mockApi({
      "GET /api/sources/7": () => savedSource(),
      "GET /api/sources/7/streams": () => ({
        discovered_at: "2024-05-01T10:00:00Z",
        streams: [
          {
            name: "forms", namespace: null, supported_sync_modes: ["full_refresh", "incremental"], source_defined_cursor: true,
            default_cursor_field: ["indexed_on"], source_defined_primary_key: [["id"]],
            columns: [{ name: "id", type: "string" }, { name: "indexed_on", type: "date-time" }],
          },
          {
            name: "cases", namespace: null, supported_sync_modes: ["full_refresh"], source_defined_cursor: false,
            default_cursor_field: [], source_defined_primary_key: [], columns: [{ name: "case_id", type: "string" }],
          },
        ],
      }),
    });
    renderPage(<EditSourcePage />, { me: ANALYST, route: "/ingest/sources/7", path: "/ingest/sources/:id" });
    const card = await screen.findByTestId("source-streams");
    expect(calls.some((c) => c.path === "/api/sources/7/streams")).toBe(false);
    const user = userEvent.setup();
    await user.click(within(card).getByTestId("source-discover"));
    const table = await screen.findByTestId("streams-table");
    expect(calls.find((c) => c.path === "/api/sources/7/streams")!.search).toBe("?refresh=true");
    const forms = within(table).getByTestId("stream-forms");
    expect(forms).toHaveTextContent("2 columns");
    expect(forms).toHaveTextContent("full refresh");
    expect(forms).toHaveTextContent("incremental");
    expect(forms).toHaveTextContent("indexed_on");
    expect(within(table).getByTestId("stream-cases")).toHaveTextContent("1 column");
    expect(within(table).getByTestId("stream-cases")).not.toHaveTextContent("incremental");
    await user.click(within(forms).getByTestId("stream-columns-forms"));
    expect(screen.getByTestId("stream-column-list-forms")).toHaveTextContent("date-time");
    expect(screen.getByTestId("source-discover")).toHaveTextContent("Refresh");
    expect(screen.getByTestId("streams-discovered-at")).toHaveTextContent("Discovered");
  });
});

describe("Custom connectors", () => {
  it("shows the Custom connector card only when the deployment allows them and the user has source.edit", async () => {
    mockApi({ "GET /api/config": () => appConfig(false), "GET /api/connectors": () => catalogue });
    const { client } = renderPage(<IngestPage />, { me: EDITOR, route: "/ingest?tab=catalogue" });
    await screen.findByTestId("connector-grid");
    await waitFor(() => expect(client.getQueryData(["config"])).toMatchObject({ custom_connectors: false }));
    expect(screen.queryByTestId("connector-custom")).not.toBeInTheDocument();
  });

  it("analysts never get the card", async () => {
    mockApi({ "GET /api/config": () => appConfig(true), "GET /api/connectors": () => catalogue });
    const { client } = renderPage(<IngestPage />, { me: ANALYST, route: "/ingest?tab=catalogue" });
    await screen.findByTestId("connector-grid");
    await waitFor(() => expect(client.getQueryData(["config"])).toMatchObject({ custom_connectors: true }));
    expect(screen.queryByTestId("connector-custom")).not.toBeInTheDocument();
  });

  it("the catalogue card leads to the new-source page in custom mode", async () => {
    mockApi({ "GET /api/config": () => appConfig(true), "GET /api/connectors": () => catalogue });
    renderPage(<IngestPage />, { me: EDITOR, route: "/ingest?tab=catalogue" });
    expect(await screen.findByTestId("connector-custom")).toHaveAttribute("href", "/ingest/sources/new?connector=custom");
  });

  it("loads the spec of the typed package and creates the source with connector custom + package", { timeout: 20_000 }, async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { calls } = mockApi({
      "GET /api/config": () => appConfig(true),
      "GET /api/connectors": () => catalogue,
      "GET /api/connectors/custom/spec": async (_req, url) => {
        await gate;
        return url.searchParams.get("package") === customPackage ? customSpecOut : json({ detail: "?", code: "x", fields: {} }, 400);
      },
      "POST /api/sources/check": () => ({ ok: true, message: "Connected." }),
      "POST /api/sources": async (req) => customSource({ name: ((await req.json()) as { name: string }).name }),
    });
    renderPage(<NewSourcePage />, { me: EDITOR, route: "/ingest/sources/new", path: "/ingest/sources/new" });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId("connector-custom"));
    const input = await screen.findByTestId("custom-package");

    // Nothing is fetched without a package.
    await user.click(screen.getByTestId("custom-load"));
    expect(input).toHaveAccessibleDescription(/Give a pip requirement or a local path/);
    expect(calls.some((c) => c.path.endsWith("/spec"))).toBe(false);

    await user.type(input, `  ${customPackage} `);
    await user.click(screen.getByTestId("custom-load"));
    expect(await screen.findByTestId("spec-loading")).toHaveTextContent(`Installing ${customPackage}… the first time takes a minute`);
    release();
    const token = await screen.findByLabelText(/^Token/);
    expect(token).toHaveAttribute("type", "password");
    const spec = calls.find((c) => c.path === "/api/connectors/custom/spec")!;
    expect(new URLSearchParams(spec.search).get("package")).toBe(customPackage);
    expect(screen.getByTestId("source-name")).toHaveValue(`Custom: ${customPackage}`);

    await user.type(screen.getByLabelText(/^Server URL/), "https://kf.example.org");
    await user.type(token, "t0k");
    await user.click(screen.getByTestId("source-check"));
    expect(await screen.findByTestId("source-check-result")).toHaveTextContent("Connected.");
    expect(calls.find((c) => c.method === "POST" && c.path === "/api/sources/check")!.body).toEqual({
      connector: "custom", package: customPackage, config: { server_url: "https://kf.example.org", token: "t0k" },
    });

    await user.clear(screen.getByTestId("source-name"));
    await user.type(screen.getByTestId("source-name"), "Kobo forms");
    await user.click(screen.getByTestId("source-save"));
    expect(await screen.findByTestId("elsewhere")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "POST" && c.path === "/api/sources")!.body).toEqual({
      connector: "custom", package: customPackage, name: "Kobo forms", config: { server_url: "https://kf.example.org", token: "t0k" },
    });
  });

  it("shows a 403 custom_disabled answer", async () => {
    mockApi({
      "GET /api/connectors/custom/spec": () =>
        json({ detail: "Custom connectors are turned off on this deployment (DALGO_CUSTOM_CONNECTORS).", code: "custom_disabled", fields: {} }, 403),
    });
    renderPage(<NewSourcePage />, { me: EDITOR, route: "/ingest/sources/new?connector=custom", path: "/ingest/sources/new" });
    const user = userEvent.setup();
    await user.type(await screen.findByTestId("custom-package"), customPackage);
    await user.click(screen.getByTestId("custom-load"));
    expect(await screen.findByTestId("api-error")).toHaveTextContent("Custom connectors are turned off on this deployment");
    expect(screen.queryByTestId("source-save")).not.toBeInTheDocument();
  });

  it("shows the install failure message, and Load connector tries again", async () => {
    let attempts = 0;
    const { calls } = mockApi({
      "GET /api/connectors/custom/spec": () => {
        attempts += 1;
        return attempts === 1
          ? json({ detail: "pip could not install airbyte-source-nope: No matching distribution found.", code: "connector_install_failed", fields: {} }, 502)
          : customSpecOut;
      },
    });
    renderPage(<NewSourcePage />, { me: EDITOR, route: `/ingest/sources/new?connector=custom&package=${encodeURIComponent(customPackage)}`, path: "/ingest/sources/new" });
    expect(await screen.findByTestId("api-error")).toHaveTextContent("No matching distribution found");
    expect(screen.getByTestId("custom-package")).toHaveValue(customPackage);
    await userEvent.setup().click(screen.getByTestId("custom-load"));
    expect(await screen.findByLabelText(/^Token/)).toBeInTheDocument();
    expect(calls.filter((c) => c.path === "/api/connectors/custom/spec")).toHaveLength(2);
  });

  it("shows the package field error under the input", async () => {
    mockApi({
      "GET /api/connectors/custom/spec": () =>
        json({ detail: "Not a requirement.", code: "invalid", fields: { package: "Not a requirement." } }, 400),
    });
    renderPage(<NewSourcePage />, { me: EDITOR, route: "/ingest/sources/new?connector=custom&package=%3D%3D", path: "/ingest/sources/new" });
    await waitFor(() => expect(screen.getByTestId("custom-package")).toHaveAccessibleDescription(/Not a requirement\./));
  });

  it("the edit page loads a custom source's spec by its package and checks with it", { timeout: 20_000 }, async () => {
    const { calls } = mockApi({
      "GET /api/sources/8": () => customSource(),
      "GET /api/connectors/custom/spec": () => customSpecOut,
      "POST /api/sources/check": () => ({ ok: true, message: "Connected." }),
      "PUT /api/sources/8": async (req) => customSource(await req.json()),
    });
    renderPage(<EditSourcePage />, { me: EDITOR, route: "/ingest/sources/8", path: "/ingest/sources/:id" });
    const token = await screen.findByLabelText(/^Token/);
    expect(token).toHaveAttribute("placeholder", "unchanged");
    expect(screen.getByLabelText(/^Server URL/)).toHaveValue("https://kf.example.org");
    expect(new URLSearchParams(calls.find((c) => c.path === "/api/connectors/custom/spec")!.search).get("package")).toBe(customPackage);
    expect(calls.some((c) => c.path === `/api/connectors/${customPackage}/spec`)).toBe(false);
    const user = userEvent.setup();
    await user.click(screen.getByTestId("source-check"));
    expect(await screen.findByTestId("source-check-result")).toHaveTextContent("Connected.");
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      connector: "custom", package: customPackage, source_id: 8, config: { server_url: "https://kf.example.org", token: "********" },
    });
    await user.click(screen.getByTestId("source-save"));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    expect(calls.find((c) => c.method === "PUT")!.body).toEqual({
      name: "Kobo forms", package: customPackage, config: { server_url: "https://kf.example.org", token: "********" },
    });
  });

  it("the edit page changes a custom source's package: loads the new spec and saves with the new package", { timeout: 20_000 }, async () => {
    const { calls } = mockApi({
      "GET /api/sources/8": () => customSource(),
      "GET /api/connectors/custom/spec": (_req, url) => (url.searchParams.get("package") === customPackageNext ? customSpecOutNext : customSpecOut),
      "PUT /api/sources/8": async (req) => customSource({ ...((await req.json()) as object), version: "0.4.0" }),
    });
    renderPage(<EditSourcePage />, { me: EDITOR, route: "/ingest/sources/8", path: "/ingest/sources/:id" });
    await screen.findByLabelText(/^Token/);
    const input = screen.getByTestId("custom-package");
    expect(input).toHaveValue(customPackage);
    expect(screen.queryByTestId("custom-package-changed")).not.toBeInTheDocument();
    expect(screen.queryByLabelText(/^Project/)).not.toBeInTheDocument();

    const user = userEvent.setup();
    // An empty package is refused in the browser.
    await user.clear(input);
    await user.click(screen.getByTestId("custom-load"));
    expect(input).toHaveAccessibleDescription(/Give a pip requirement or a local path/);

    await user.type(input, ` ${customPackageNext} `);
    await user.click(screen.getByTestId("custom-load"));
    const project = await screen.findByLabelText(/^Project/);
    const specCalls = calls.filter((c) => c.path === "/api/connectors/custom/spec");
    expect(new URLSearchParams(specCalls.at(-1)!.search).get("package")).toBe(customPackageNext);
    expect(screen.getByTestId("custom-package-changed")).toHaveTextContent(`from ${customPackage} to ${customPackageNext}`);
    // Still prefilled from the saved source, secrets unchanged.
    expect(screen.getByTestId("source-name")).toHaveValue("Kobo forms");
    expect(screen.getByLabelText(/^Server URL/)).toHaveValue("https://kf.example.org");
    expect(screen.getByLabelText(/^Token/)).toHaveAttribute("placeholder", "unchanged");

    // The new spec requires a project: nothing is sent without it.
    await user.click(screen.getByTestId("source-save"));
    expect(calls.some((c) => c.method === "PUT")).toBe(false);
    await user.type(project, "p-1");
    await user.click(screen.getByTestId("source-save"));
    expect(await screen.findByTestId("elsewhere")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "PUT")!.body).toEqual({
      name: "Kobo forms", package: customPackageNext, config: { server_url: "https://kf.example.org", token: "********", project: "p-1" },
    });
  });

  it("the edit page shows a save's package error under the package field", { timeout: 20_000 }, async () => {
    const failure = "Could not install airbyte-source-kobo-ngo==0.4.0:\nNo solution found.";
    mockApi({
      "GET /api/sources/8": () => customSource(),
      "GET /api/connectors/custom/spec": (_req, url) => (url.searchParams.get("package") === customPackageNext ? customSpecOutNext : customSpecOut),
      "PUT /api/sources/8": () => json({ detail: failure, code: "connector_install_failed", fields: { package: failure } }, 400),
    });
    renderPage(<EditSourcePage />, { me: EDITOR, route: "/ingest/sources/8", path: "/ingest/sources/:id" });
    await screen.findByLabelText(/^Token/);
    const user = userEvent.setup();
    const input = screen.getByTestId("custom-package");
    await user.clear(input);
    await user.type(input, customPackageNext);
    await user.click(screen.getByTestId("custom-load"));
    await user.type(await screen.findByLabelText(/^Project/), "p-1");
    await user.click(screen.getByTestId("source-save"));
    await waitFor(() => expect(screen.getByTestId("custom-package")).toHaveAccessibleDescription(/No solution found/));
    expect(screen.getByTestId("api-error")).toHaveTextContent("Could not install");
    expect(screen.queryByTestId("elsewhere")).not.toBeInTheDocument();
    // Editing the package clears its error.
    await user.type(screen.getByTestId("custom-package"), "x");
    expect(screen.getByTestId("custom-package")).not.toHaveAccessibleDescription(/No solution found/);
  });
});
