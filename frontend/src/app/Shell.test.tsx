import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { storedOrg } from "../api/client";
import { makeMe, MEMBER_PERMS, mockApi, renderPage } from "../test/utils";
import { Shell } from "./Shell";

describe("Shell navigation", () => {
  it("shows every area and the settings an admin may use", () => {
    mockApi({});
    renderPage(<Shell />, { me: makeMe() });
    for (const area of ["home", "ingest", "transform", "orchestrate", "explore", "charts", "dashboards"]) {
      expect(screen.getByTestId(`nav-${area}`)).toBeInTheDocument();
    }
    for (const s of ["users", "tokens", "audit", "system"]) {
      expect(screen.getByTestId(`nav-settings-${s}`)).toBeInTheDocument();
    }
  });

  it("hides settings a member's role does not grant", () => {
    mockApi({});
    renderPage(<Shell />, { me: makeMe([{ role: "member", permissions: MEMBER_PERMS }]) });
    expect(screen.getByTestId("nav-home")).toBeInTheDocument();
    expect(screen.getByTestId("nav-settings-tokens")).toBeInTheDocument();
    expect(screen.queryByTestId("nav-settings-users")).not.toBeInTheDocument();
    expect(screen.queryByTestId("nav-settings-audit")).not.toBeInTheDocument();
    expect(screen.queryByTestId("nav-settings-system")).not.toBeInTheDocument();
  });

  it("offers to create an organisation when the user has none", () => {
    mockApi({});
    renderPage(<Shell />, { me: makeMe([]) });
    expect(screen.getByTestId("create-org")).toBeInTheDocument();
    expect(screen.queryByTestId("org-switcher")).not.toBeInTheDocument();
  });
});

describe("Org switcher", () => {
  it("switches org: stores it, sends it as X-Dalgo-Org, remembers it server-side and refetches", async () => {
    const me = makeMe([
      { slug: "alpha", name: "Alpha" },
      { slug: "beta", name: "Beta", role: "member", permissions: MEMBER_PERMS },
    ]);
    const { calls } = mockApi({
      "GET /api/org": (req) => ({ slug: req.headers.get("X-Dalgo-Org"), name: "", role: "member", permissions: [] }),
      "GET /api/org/members": () => [],
    });
    const { client } = renderPage(<Shell />, { me });
    await waitFor(() => expect(storedOrg()).toBe("alpha"));
    // A cached org-scoped query must be refetched after the switch.
    client.setQueryData(["org", "alpha", "members"], []);
    expect(screen.getByTestId("nav-settings-users")).toBeInTheDocument();

    await userEvent.setup().selectOptions(screen.getByTestId("org-switcher"), "beta");

    expect(storedOrg()).toBe("beta");
    await waitFor(() => expect(calls.some((c) => c.path === "/api/org")).toBe(true));
    const orgCall = calls.find((c) => c.path === "/api/org")!;
    expect(orgCall.headers.get("X-Dalgo-Org")).toBe("beta");
    expect(client.getQueryState(["org", "alpha", "members"])?.isInvalidated).toBe(true);
    // The navigation now reflects the member role in Beta.
    expect(screen.queryByTestId("nav-settings-users")).not.toBeInTheDocument();
  });
});
