/**
 * The API's error envelope, `{error: {code, message, details?}}`, as one typed error.
 *
 * Every failed call becomes an `ApiError` (see `client.ts`); TanStack Query carries it into
 * a query's or mutation's `error`, and `describeError` turns it into a sentence a person
 * understands. Field problems (400/422 `VALIDATION_FAILED`) are kept by field name so forms
 * can show each one next to its input.
 */
import { friendlyFieldMessage } from "./fieldMessages";

/** One entry of `details` on a validation error: `{field, message, type?}`. */
export interface FieldProblem {
  field: string;
  message: string;
}

export interface ApiErrorInit {
  status: number;
  code: string;
  message: string;
  details?: unknown;
  retryAfterSeconds?: number | null;
  requestId?: string | null;
}

/**
 * Errors about one field that the server reports by code rather than in `details`
 * (a taken name on register or profile change): shown next to that field too.
 */
const FIELD_OF_CODE: Readonly<Record<string, string>> = {
  USERNAME_ALREADY_EXISTS: "username",
  EMAIL_ALREADY_EXISTS: "email",
};

/** Status 0 means the request never got an answer (offline, server down, CORS). */
export const NETWORK_ERROR = "NETWORK_ERROR";

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** Messages by field name (`password`, `payload.delay_seconds`, `query.limit`, …). */
  readonly fieldErrors: Readonly<Record<string, readonly string[]>>;
  /** From `Retry-After` on a 429 or 503; null when the server did not say. */
  readonly retryAfterSeconds: number | null;
  /** The server's `X-Request-ID`, worth quoting in a bug report on a 500. */
  readonly requestId: string | null;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    const byCode = FIELD_OF_CODE[init.code];
    this.fieldErrors = groupFieldProblems([
      ...fieldProblems(init.details),
      ...(byCode ? [{ field: byCode, message: init.message }] : []),
    ]);
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
    this.requestId = init.requestId ?? null;
  }

  /** The first message about `field`, for showing next to its input. */
  fieldError(field: string): string | undefined {
    return this.fieldErrors[field]?.[0];
  }

  get isValidation(): boolean {
    return this.code === "VALIDATION_FAILED" || this.status === 422;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

export function isUnauthorized(value: unknown): boolean {
  return isApiError(value) && value.status === 401;
}

/**
 * The `details` entries that name a field, each message in words a person understands
 * (`friendlyFieldMessage`: pydantic's "String should match pattern …" becomes the rule);
 * anything else in `details` is left alone.
 */
export function fieldProblems(details: unknown): FieldProblem[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((item: unknown) => {
    if (typeof item !== "object" || item === null) return [];
    const { field, message, type } = item as Record<string, unknown>;
    if (typeof field !== "string" || typeof message !== "string") return [];
    const kind = typeof type === "string" ? type : undefined;
    return [{ field, message: friendlyFieldMessage(field, kind, message) }];
  });
}

function groupFieldProblems(problems: FieldProblem[]): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const { field, message } of problems) {
    (grouped[field] ??= []).push(message);
  }
  return grouped;
}

/**
 * `Retry-After` is either a number of seconds or an HTTP date (RFC 9110 §10.2.3).
 * Returns whole seconds from `now`, never negative; null when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now: Date = new Date()): number | null {
  if (header === null || header.trim() === "") return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const when = Date.parse(text);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - now.getTime()) / 1000));
}

/**
 * Build the error for a response that was not a success. The body should be the
 * envelope; a proxy's HTML error page or an empty body still gives a usable error.
 */
export function errorFromResponse(response: Response, body: unknown, now?: Date): ApiError {
  const envelope = readEnvelope(body);
  return new ApiError({
    status: response.status,
    code: envelope?.code ?? `HTTP_${response.status}`,
    message: envelope?.message ?? (response.statusText || `Request failed (${response.status})`),
    details: envelope?.details,
    retryAfterSeconds: parseRetryAfter(response.headers.get("Retry-After"), now),
    requestId: response.headers.get("X-Request-ID"),
  });
}

function readEnvelope(body: unknown): { code: string; message: string; details?: unknown } | null {
  if (typeof body !== "object" || body === null || !("error" in body)) return null;
  const error = (body as { error: unknown }).error;
  if (typeof error !== "object" || error === null) return null;
  const { code, message, details } = error as Record<string, unknown>;
  if (typeof code !== "string" || typeof message !== "string") return null;
  return { code, message, details };
}

/** A fetch that threw (no answer at all). */
export function networkError(cause: unknown): ApiError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ApiError({
    status: 0,
    code: NETWORK_ERROR,
    message: `The server could not be reached (${detail}).`,
  });
}

/** "in 42 seconds" / "in 3 minutes": when a throttled action may be tried again. */
export function formatRetryAfter(seconds: number): string {
  if (seconds < 60) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/**
 * The sentence to show for an error. The server's messages for 4xx are written for
 * people (they name the rule), so they are kept; statuses whose message is technical or
 * masked get a plain explanation instead.
 */
export function describeError(error: unknown): string {
  if (!isApiError(error)) {
    return "Something went wrong in this page. Reloading it usually helps.";
  }
  switch (error.status) {
    case 0:
      return "The server could not be reached. Check your connection and try again.";
    case 401:
      return error.code === "INVALID_CREDENTIALS"
        ? error.message
        : "Your session has ended. Please sign in again.";
    case 403:
      return `You are not allowed to do this. ${error.message}`;
    case 404:
      return "This was not found. It may have been deleted, or it is not yours to see.";
    case 413:
      return "That is too large to send. Make it smaller and try again.";
    case 429:
      return error.retryAfterSeconds === null
        ? "Too many attempts. Wait a moment, then try again."
        : `Too many attempts. Try again ${formatRetryAfter(error.retryAfterSeconds)}.`;
    case 400:
    case 422:
      return error.isValidation && Object.keys(error.fieldErrors).length > 0
        ? "Some fields need attention."
        : error.message;
    case 503:
      return "The service is unavailable for a moment. Try again shortly.";
    default:
      if (error.status >= 500) {
        const quote = error.requestId ? ` (request id ${error.requestId})` : "";
        return `Something went wrong on the server${quote}. Try again; if it keeps happening, report it.`;
      }
      return error.message;
  }
}
