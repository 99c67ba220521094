import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { makeMe, mockApi, renderPage } from "../test/utils";
import { IngestPage } from "./IngestPage";

const connector = (slug: string, name: string, category: string, favourite: boolean) => ({
  name, slug, package: `airbyte-source-${slug}`, version: "1.0.0", category, summary: `${name} source`,
  docs_url: `https://docs.airbyte.com/integrations/sources/${slug}`, favourite,
});
const catalogue = [
  connector("commcare", "CommCare", "forms & surveys", true),
  connector("google-sheets", "Google Sheets", "spreadsheets & files", true),
  connector("stripe", "Stripe", "finance", false),
];

describe("IngestPage", () => {
  it("lists the catalogue (Catalogue tab) with favourites marked, and searches on the server", async () => {
    const { calls } = mockApi({
      "GET /api/connectors": (_req, url) => {
        const search = (url.searchParams.get("search") ?? "").toLowerCase();
        const category = url.searchParams.get("category");
        return catalogue.filter(
          (c) => c.name.toLowerCase().includes(search) && (!category || c.category === category),
        );
      },
    });
    renderPage(<IngestPage />, { me: makeMe(), route: "/ingest?tab=catalogue" });
    const grid = await screen.findByTestId("connector-grid");
    expect(within(grid).getByTestId("connector-commcare")).toHaveTextContent("NGO favourite");
    expect(within(grid).getByTestId("connector-stripe")).not.toHaveTextContent("NGO favourite");

    const user = userEvent.setup();
    await user.type(screen.getByTestId("connector-search"), "sheets");
    expect(await screen.findByText("1 connectors")).toBeInTheDocument();
    expect(calls.some((c) => c.search.includes("search=sheets"))).toBe(true);

    await user.clear(screen.getByTestId("connector-search"));
    await user.selectOptions(screen.getByTestId("connector-category"), "finance");
    expect(await screen.findByTestId("connector-stripe")).toBeInTheDocument();
    expect(calls.some((c) => c.search.includes("category=finance"))).toBe(true);
  });
});
