import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, makeMe, mockApi, renderPage } from "../test/utils";
import { UsersPage } from "./UsersPage";

const members = [
  { user_id: 1, email: "ada@ngo.org", name: "Ada", role: "admin", joined_at: "2026-01-01T00:00:00Z" },
  { user_id: 2, email: "bo@ngo.org", name: "Bo", role: "analyst", joined_at: "2026-01-02T00:00:00Z" },
  { user_id: 3, email: "cy@ngo.org", name: "Cy", role: "super-admin", joined_at: "2026-01-03T00:00:00Z" },
];
const invitation = {
  id: 9, email: "new@ngo.org", role: "member", invited_by: "ada@ngo.org", created_at: "2026-01-01T00:00:00Z",
  expires_at: "2026-01-08T00:00:00Z", last_sent_at: "2026-01-01T00:00:00Z", sent_count: 1, expired: false,
};
const api = (extra = {}) =>
  mockApi({
    "GET /api/config": () => ({ signup_enabled: true, signup_creates_orgs: true, custom_connectors: false, roles: ["member", "analyst", "admin", "super-admin"], permissions: {}, version: "0" }),
    "GET /api/org/members": () => members,
    "GET /api/org/invitations": () => [invitation],
    ...extra,
  });

describe("UsersPage", () => {
  it("lets an admin invite, change roles up to their own, and remove others", async () => {
    api();
    renderPage(<UsersPage />, { me: makeMe([{ role: "admin" }]) });
    const table = await screen.findByTestId("members-table");
    expect(screen.getByTestId("invite-button")).toBeInTheDocument();
    // Bo (analyst) is editable with roles up to admin only.
    const select = await within(table).findByLabelText("Role of bo@ngo.org");
    expect(within(select).getAllByRole("option").map((o) => o.getAttribute("value"))).toEqual(["member", "analyst", "admin"]);
    expect(within(table).getByLabelText("Remove bo@ngo.org")).toBeInTheDocument();
    // Not oneself, nor someone above one's role.
    expect(within(table).queryByLabelText("Role of ada@ngo.org")).not.toBeInTheDocument();
    expect(within(table).queryByLabelText("Role of cy@ngo.org")).not.toBeInTheDocument();
    expect(within(await screen.findByTestId("invitations-table")).getByText("new@ngo.org")).toBeInTheDocument();
  });

  it("hides invite and member management from a role without those permissions", async () => {
    api();
    renderPage(<UsersPage />, { me: makeMe([{ role: "analyst", permissions: ["org.view", "member.view"] }]) });
    const table = await screen.findByTestId("members-table");
    expect(screen.queryByTestId("invite-button")).not.toBeInTheDocument();
    expect(within(table).queryByRole("combobox")).not.toBeInTheDocument();
    expect(within(table).queryByLabelText(/^Remove/)).not.toBeInTheDocument();
    const invitations = await screen.findByTestId("invitations-table");
    expect(within(invitations).queryByLabelText(/Revoke/)).not.toBeInTheDocument();
  });

  it("shows the API's field error in the invite form", async () => {
    const { calls } = api({
      "POST /api/org/invitations": () =>
        json({ detail: "new@ngo.org already has a pending invitation.", code: "already_invited", fields: { email: "Already invited." } }, 409),
    });
    renderPage(<UsersPage />, { me: makeMe([{ role: "admin" }]) });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId("invite-button"));
    await user.type(await screen.findByTestId("invite-email"), "new@ngo.org");
    await user.selectOptions(screen.getByTestId("invite-role"), "analyst");
    await user.click(screen.getByTestId("invite-submit"));
    expect(await screen.findByText("Already invited.")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("already has a pending invitation");
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ email: "new@ngo.org", role: "analyst" });
  });
});
