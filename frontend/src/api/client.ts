import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { ApiError } from "./errors";

export type Schemas = components["schemas"];

const ORG_KEY = "dalgo.org";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The org every org-scoped request acts in (sent as X-Dalgo-Org), kept in localStorage. */
export function storedOrg(): string | null {
  try {
    return localStorage.getItem(ORG_KEY);
  } catch {
    return null;
  }
}

export function storeOrg(slug: string | null): void {
  try {
    if (slug) localStorage.setItem(ORG_KEY, slug);
    else localStorage.removeItem(ORG_KEY);
  } catch {
    /* storage unavailable: the header is simply not sent */
  }
}

function cookie(name: string): string | null {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
}

let csrfFromBody: string | null = null;

/** The CSRF token: the csrftoken cookie, fetched from GET /api/auth/csrf when missing. */
async function csrfToken(): Promise<string | null> {
  const fromCookie = cookie("csrftoken");
  if (fromCookie) return fromCookie;
  const res = await globalThis.fetch(`${origin()}/api/auth/csrf`, { credentials: "same-origin" });
  if (res.ok) {
    const body = (await res.json()) as Schemas["CsrfOut"];
    csrfFromBody = body.csrf_token;
  }
  return cookie("csrftoken") ?? csrfFromBody;
}

function origin(): string {
  return typeof window !== "undefined" ? window.location.origin : "http://localhost";
}

const dalgoHeaders: Middleware = {
  async onRequest({ request }) {
    const org = storedOrg();
    if (org && !request.headers.has("X-Dalgo-Org")) request.headers.set("X-Dalgo-Org", org);
    if (UNSAFE.has(request.method.toUpperCase())) {
      const token = await csrfToken();
      if (token) request.headers.set("X-CSRFToken", token);
    }
    return request;
  },
};

export const client = createClient<paths>({
  baseUrl: origin(),
  credentials: "same-origin",
  // Late-bound so tests can stub globalThis.fetch.
  fetch: (request: Request) => globalThis.fetch(request),
});
client.use(dalgoHeaders);

type Result<T> = { data?: T; error?: unknown; response: Response };

/** Awaits an openapi-fetch call: returns its data, or throws an ApiError built from the error body. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, "Cannot reach the server. Check your connection and try again.", "network");
  }
  if (!result.response.ok) throw ApiError.from(result.response.status, result.error);
  return result.data as T;
}
