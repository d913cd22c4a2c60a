import { describe, expect, it } from "vitest";
import { ApiError } from "./errors";
import { needsSignIn, shouldRetry } from "./queryClient";

const error = (status: number, code = "X") => new ApiError({ status, code, message: code });

describe("needsSignIn", () => {
  it("sends a 401 to sign-in unless the caller handles it (the login form)", () => {
    expect(needsSignIn(error(401, "UNAUTHORIZED"), undefined)).toBe(true);
    expect(needsSignIn(error(401, "INVALID_CREDENTIALS"), { handlesUnauthorized: true })).toBe(
      false,
    );
    expect(needsSignIn(error(403), undefined)).toBe(false);
  });
});

describe("shouldRetry", () => {
  it("retries no answer and server errors twice, never a 4xx", () => {
    expect(shouldRetry(0, error(0))).toBe(true);
    expect(shouldRetry(1, error(503))).toBe(true);
    expect(shouldRetry(2, error(503))).toBe(false);
    expect(shouldRetry(0, error(404))).toBe(false);
    expect(shouldRetry(0, error(429))).toBe(false);
    expect(shouldRetry(0, new Error("bug"))).toBe(false);
  });
});
