import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, makeMe, mockApi, renderPage } from "../test/utils";
import { AcceptInvitationPage } from "./AcceptInvitationPage";

const inv = (userExists: boolean) => ({
  org_name: "Acme NGO", email: "new@ngo.org", role: "analyst", invited_by: "Ada", user_exists: userExists,
  expires_at: "2026-01-08T00:00:00Z",
});
const anonymous = () => json({ detail: "Authentication required.", code: "not_authenticated", fields: {} }, 401);
const opts = { route: "/invite/tok", path: "/invite/:token" };

describe("AcceptInvitationPage", () => {
  it("explains an expired or used invitation", async () => {
    mockApi({
      "GET /api/invitations/tok": () => json({ detail: "This invitation has expired.", code: "expired", fields: {} }, 410),
      "GET /api/me": anonymous,
    });
    renderPage(<AcceptInvitationPage />, opts);
    expect(await screen.findByText("This invitation can no longer be used")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("This invitation has expired.");
  });

  it("asks a new user for a name and password, then accepts", async () => {
    const { calls } = mockApi({
      "GET /api/invitations/tok": () => inv(false),
      "GET /api/me": anonymous,
      "POST /api/invitations/tok/accept": () => ({ ...makeMe([{ slug: "acme", name: "Acme NGO" }]), joined_org: "acme" }),
    });
    renderPage(<AcceptInvitationPage />, opts);
    expect(await screen.findByText("Acme NGO", { selector: "td" })).toBeInTheDocument();
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/your name/i), "New");
    await user.type(screen.getByLabelText(/^password/i), "a-good-password");
    await user.click(screen.getByTestId("accept-submit"));
    await screen.findByTestId("elsewhere");
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ name: "New", password: "a-good-password" });
    expect(localStorage.getItem("dalgo.org")).toBe("acme");
  });

  it("sends an existing user who is logged out to log in first", async () => {
    mockApi({ "GET /api/invitations/tok": () => inv(true), "GET /api/me": anonymous });
    renderPage(<AcceptInvitationPage />, opts);
    const link = await screen.findByTestId("invite-login");
    expect(link).toHaveAttribute("href", "/login?next=%2Finvite%2Ftok");
    expect(screen.queryByTestId("accept-submit")).not.toBeInTheDocument();
  });

  it("offers a logged-in user an Accept button", async () => {
    mockApi({ "GET /api/invitations/tok": () => inv(true), "GET /api/me": () => makeMe([], { email: "new@ngo.org" }) });
    renderPage(<AcceptInvitationPage />, opts);
    expect(await screen.findByTestId("accept-submit")).toHaveTextContent("Accept invitation");
  });
});
