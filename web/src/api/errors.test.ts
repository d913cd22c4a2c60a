import { describe, expect, it } from "vitest";
import {
  ApiError,
  describeError,
  errorFromResponse,
  isUnauthorized,
  networkError,
  parseRetryAfter,
} from "./errors";

function response(status: number, headers: Record<string, string> = {}) {
  return new Response(null, { status, headers });
}

describe("errorFromResponse", () => {
  it("reads the envelope's code, message and field details", () => {
    const error = errorFromResponse(response(400, { "X-Request-ID": "req-1" }), {
      error: {
        code: "VALIDATION_FAILED",
        message: "Request validation failed",
        details: [
          { field: "password", message: "too short", type: "string_too_short" },
          { field: "password", message: "too common" },
          { field: "username", message: "bad characters" },
          "not a field problem",
        ],
      },
    });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(400);
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.isValidation).toBe(true);
    expect(error.fieldErrors).toEqual({
      password: ["too short", "too common"],
      username: ["bad characters"],
    });
    expect(error.fieldError("password")).toBe("too short");
    expect(error.fieldError("email")).toBeUndefined();
    expect(error.requestId).toBe("req-1");
  });

  it("puts a taken username next to the username field", () => {
    const error = errorFromResponse(response(409), {
      error: { code: "USERNAME_ALREADY_EXISTS", message: "Username already taken" },
    });
    expect(error.fieldError("username")).toBe("Username already taken");
  });

  it("still gives an error for a body that is not the envelope (a proxy's page)", () => {
    const error = errorFromResponse(
      new Response(null, { status: 502, statusText: "Bad Gateway" }),
      "<html>",
    );
    expect(error.status).toBe(502);
    expect(error.code).toBe("HTTP_502");
    expect(error.message).toBe("Bad Gateway");
    expect(error.fieldErrors).toEqual({});
  });

  it("reads Retry-After on a 429", () => {
    const error = errorFromResponse(response(429, { "Retry-After": "42" }), {
      error: { code: "RATE_LIMITED", message: "Too many" },
    });
    expect(error.retryAfterSeconds).toBe(42);
    expect(describeError(error)).toBe("Too many attempts. Try again in 42 seconds.");
  });
});

describe("parseRetryAfter", () => {
  const now = new Date("2025-01-01T12:00:00Z");
  it("takes seconds or an HTTP date", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Wed, 01 Jan 2025 12:01:30 GMT", now)).toBe(90);
  });
  it("never goes below zero and ignores what it cannot read", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe("describeError", () => {
  const make = (status: number, code: string, message = "server text", details?: unknown) =>
    new ApiError({ status, code, message, details });

  it("keeps the server's sentence for a wrong password, hides it for an ended session", () => {
    expect(describeError(make(401, "INVALID_CREDENTIALS", "Invalid username or password"))).toBe(
      "Invalid username or password",
    );
    expect(describeError(make(401, "UNAUTHORIZED"))).toMatch(/session has ended/);
  });

  it("points at the fields for a validation error that names them", () => {
    const withFields = make(422, "VALIDATION_FAILED", "x", [{ field: "name", message: "missing" }]);
    expect(describeError(withFields)).toBe("Some fields need attention.");
    expect(describeError(make(400, "VALIDATION_FAILED", "Unknown task type"))).toBe(
      "Unknown task type",
    );
  });

  it("explains a network failure and masks a server error, quoting the request id", () => {
    expect(describeError(networkError(new TypeError("Failed to fetch")))).toMatch(
      /could not be reached/,
    );
    const crash = new ApiError({
      status: 500,
      code: "INTERNAL_ERROR",
      message: "Internal",
      requestId: "abc",
    });
    expect(describeError(crash)).toMatch(/request id abc/);
    expect(describeError(make(404, "TASK_NOT_FOUND"))).toMatch(/not found/);
  });

  it("has a sentence for errors that are not from the API", () => {
    expect(describeError(new Error("boom"))).toMatch(/Something went wrong/);
    expect(isUnauthorized(new Error("401"))).toBe(false);
  });
});
