import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter, Route, Routes } from "react-router";
import { vi } from "vitest";
import type { Schemas } from "../api/client";
import { makeQueryClient, Providers } from "../app/Providers";
import { OrgProvider } from "../app/session";

type Handler = (req: Request, url: URL) => unknown | Response | Promise<unknown | Response>;

export interface Call {
  method: string;
  path: string;
  search: string;
  headers: Headers;
  body: unknown;
}

/** Stubs fetch at the boundary: handlers keyed "METHOD /path" return a JSON body or a Response. */
export function mockApi(handlers: Record<string, Handler>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url);
    const text = req.method === "GET" || req.method === "HEAD" ? "" : await req.clone().text();
    calls.push({ method: req.method, path: url.pathname, search: url.search, headers: req.headers, body: text ? JSON.parse(text) : undefined });
    const handler = handlers[`${req.method} ${url.pathname}`];
    if (!handler) return json({ detail: `No mock for ${req.method} ${url.pathname}`, code: "not_found", fields: {} }, 404);
    const out = await handler(req, url);
    return out instanceof Response ? out : json(out);
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}

export function json(body: unknown, status = 200): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

export const ALL_ADMIN = [
  "audit.view", "member.invite", "member.manage", "member.view", "org.view", "system.check", "system.view", "token.manage",
  "warehouse.view", "warehouse.edit", "explore.view", "source.view", "source.edit",
];
export const MEMBER_PERMS = ["org.view", "token.manage", "chart.view", "dashboard.view"];

export function makeMe(orgs: Partial<Schemas["OrgOut"]>[] = [{}], user: Partial<Schemas["UserOut"]> = {}): Schemas["MeOut"] {
  return {
    user: { id: 1, email: "ada@ngo.org", name: "Ada", email_verified: true, is_platform_admin: false, ...user },
    orgs: orgs.map((o, i) => ({
      slug: `org-${i + 1}`,
      name: `Org ${i + 1}`,
      role: "admin",
      permissions: ALL_ADMIN,
      ...o,
    })),
    last_org: null,
  };
}

/** Renders a page inside the app's providers, a router at `route`, and (when `me` is given) a session. */
export function renderPage(ui: ReactElement, { route = "/", path = "*", me }: { route?: string; path?: string; me?: Schemas["MeOut"] } = {}) {
  const client = makeQueryClient();
  client.setDefaultOptions({ queries: { retry: false, refetchOnWindowFocus: false } });
  const content = me ? <OrgProvider me={me}>{ui}</OrgProvider> : ui;
  return {
    client,
    ...render(
      <Providers client={client}>
        <MemoryRouter initialEntries={[route]}>
          <Routes>
            <Route path={path} element={content} />
            <Route path="*" element={<div data-testid="elsewhere" />} />
          </Routes>
        </MemoryRouter>
      </Providers>,
    ),
  };
}
