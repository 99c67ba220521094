import { describe, expect, it } from "vitest";
import { mockApi } from "../test/utils";
import { client, storeOrg, unwrap } from "./client";
import { ApiError } from "./errors";

describe("api client", () => {
  it("sends the org header and the CSRF cookie on unsafe methods", async () => {
    document.cookie = "csrftoken=tok123";
    storeOrg("acme");
    const { calls } = mockApi({ "POST /api/tokens": () => ({ id: 1, name: "x", prefix: "p", created_at: "", last_used_at: null, token: "t" }) });
    await unwrap(client.POST("/api/tokens", { body: { name: "x" } }));
    expect(calls[0].headers.get("X-Dalgo-Org")).toBe("acme");
    expect(calls[0].headers.get("X-CSRFToken")).toBe("tok123");
    document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
  });

  it("fetches a CSRF token first when the cookie is missing", async () => {
    const { calls } = mockApi({
      "GET /api/auth/csrf": () => ({ csrf_token: "fromBody" }),
      "POST /api/auth/logout": () => ({ ok: true }),
    });
    await unwrap(client.POST("/api/auth/logout"));
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(["GET /api/auth/csrf", "POST /api/auth/logout"]);
    expect(calls[1].headers.get("X-CSRFToken")).toBe("fromBody");
  });

  it("throws an ApiError with the server's detail and fields", async () => {
    mockApi({ "GET /api/me": () => new Response(JSON.stringify({ detail: "Authentication required.", code: "not_authenticated", fields: {} }), { status: 401 }) });
    const err = await unwrap(client.GET("/api/me")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect((err as ApiError).code).toBe("not_authenticated");
  });
});
