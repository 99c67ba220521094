import { describe, expect, it } from "vitest";
import { ApiError, errorMessage } from "./errors";

describe("ApiError.from", () => {
  it("reads the Dalgo error shape", () => {
    const e = ApiError.from(409, { detail: "Already invited.", code: "already_invited", fields: { email: "Already invited." } });
    expect(e.status).toBe(409);
    expect(e.detail).toBe("Already invited.");
    expect(e.code).toBe("already_invited");
    expect(e.fields).toEqual({ email: "Already invited." });
    expect(errorMessage(e)).toBe("Already invited.");
    expect(e.related).toEqual({});
  });

  it("keeps the ids of related objects", () => {
    const e = ApiError.from(409, { detail: "A sync is running.", code: "sync_running", fields: {}, related: { run_id: "r-1" } });
    expect(e.related).toEqual({ run_id: "r-1" });
  });

  it("falls back on a sensible message for bodies that are not the shape", () => {
    expect(ApiError.from(500, "<html>").detail).toMatch(/our side/);
    expect(ApiError.from(404, undefined).fields).toEqual({});
    expect(ApiError.from(403, { detail: 3 }).detail).toMatch(/not allowed/);
  });
});
