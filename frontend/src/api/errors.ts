/**
 * The error envelope every Dalgo API error uses: {"detail", "code", "fields", "related"}, fields = name -> reason,
 * related = ids of objects the client may link to (e.g. `run_id` of the sync already running).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly fields: Record<string, string>;
  readonly related: Record<string, string>;

  constructor(
    status: number,
    detail: string,
    code = "error",
    fields: Record<string, string> = {},
    related: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.code = code;
    this.fields = fields;
    this.related = related;
  }

  /** Builds an ApiError from a response status and its parsed body (whatever it is). */
  static from(status: number, body: unknown): ApiError {
    if (body && typeof body === "object") {
      const b = body as { detail?: unknown; code?: unknown; fields?: unknown; related?: unknown };
      const detail = typeof b.detail === "string" ? b.detail : defaultDetail(status);
      const code = typeof b.code === "string" ? b.code : "error";
      const fields: Record<string, string> = {};
      if (b.fields && typeof b.fields === "object") {
        for (const [k, v] of Object.entries(b.fields as Record<string, unknown>)) {
          fields[k] = String(v);
        }
      }
      const related: Record<string, string> = {};
      if (b.related && typeof b.related === "object") {
        for (const [k, v] of Object.entries(b.related as Record<string, unknown>)) {
          related[k] = String(v);
        }
      }
      return new ApiError(status, detail, code, fields, related);
    }
    return new ApiError(status, defaultDetail(status));
  }
}

function defaultDetail(status: number): string {
  if (status === 0) return "Cannot reach the server. Check your connection and try again.";
  if (status === 401) return "Authentication required.";
  if (status === 403) return "You are not allowed to do this.";
  if (status === 404) return "Not found.";
  if (status >= 500) return "Something went wrong on our side.";
  return `Request failed (${status}).`;
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** A human message for any thrown value. */
export function errorMessage(e: unknown): string {
  if (isApiError(e)) return e.detail;
  if (e instanceof Error) return e.message;
  return "Something went wrong.";
}
