import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, mockApi, renderPage } from "../test/utils";
import { SignupPage } from "./SignupPage";

const config = (creates: boolean) => ({
  signup_enabled: true,
  signup_creates_orgs: creates,
  custom_connectors: false,
  roles: ["member", "analyst", "admin", "super-admin"],
  permissions: {},
  version: "0",
});

describe("SignupPage", () => {
  it("asks for an organisation only when sign-up creates orgs", async () => {
    mockApi({ "GET /api/config": () => config(false) });
    renderPage(<SignupPage />, { route: "/signup" });
    expect(await screen.findByLabelText(/^email/i)).toBeInTheDocument();
    expect(screen.queryByLabelText(/organisation name/i)).not.toBeInTheDocument();
  });

  it("shows field errors under inputs and the detail in an alert", async () => {
    document.cookie = "csrftoken=abc";
    const { calls } = mockApi({
      "GET /api/config": () => config(true),
      "POST /api/auth/signup": () =>
        json(
          {
            detail: "An account with this email already exists.",
            code: "email_taken",
            fields: { email: "Already registered.", password: "This password is too common." },
          },
          409,
        ),
    });
    renderPage(<SignupPage />, { route: "/signup" });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/^email/i), "ada@ngo.org");
    await user.type(screen.getByLabelText(/^password/i), "password");
    await user.type(screen.getByLabelText(/organisation name/i), "Ada NGO");
    await user.click(screen.getByTestId("signup-submit"));

    expect(await screen.findByRole("alert")).toHaveTextContent("An account with this email already exists.");
    expect(screen.getByText("Already registered.")).toBeInTheDocument();
    expect(screen.getByLabelText(/^email/i)).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("This password is too common.")).toBeInTheDocument();
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual({ email: "ada@ngo.org", name: "", password: "password", org_name: "Ada NGO" });
    expect(post.headers.get("X-CSRFToken")).toBe("abc");
  });

  it("goes to the app after signing up", async () => {
    mockApi({
      "GET /api/config": () => config(false),
      "POST /api/auth/signup": () => json({ user: {}, orgs: [], last_org: null }, 201),
    });
    renderPage(<SignupPage />, { route: "/signup", path: "/signup" });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/^email/i), "ada@ngo.org");
    await user.type(screen.getByLabelText(/^password/i), "a-long-password");
    await user.click(screen.getByTestId("signup-submit"));
    await waitFor(() => expect(screen.getByTestId("elsewhere")).toBeInTheDocument());
  });
});
