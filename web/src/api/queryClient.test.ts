import { describe, expect, it } from "vitest";
import { ApiError } from "./errors";
import { createQueryClient, mayHaveLostRights, needsSignIn, shouldRetry } from "./queryClient";
import { queryKeys } from "./queryKeys";

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

describe("a 403 makes the app ask again who is signed in", () => {
  it("invalidates /auth/me after a refused read or write, but not after a 403 from /auth/me", async () => {
    const queryClient = createQueryClient(() => {});
    queryClient.setQueryData(queryKeys.me, { username: "morgan", role: "moderator" });

    await queryClient
      .fetchQuery({ queryKey: ["tasks", "stats"], queryFn: () => Promise.reject(error(403)) })
      .catch(() => undefined);
    expect(queryClient.getQueryState(queryKeys.me)?.isInvalidated).toBe(true);

    queryClient.setQueryData(queryKeys.me, { username: "morgan", role: "user" });
    await queryClient
      .getMutationCache()
      .build(queryClient, { mutationFn: () => Promise.reject(error(403)) })
      .execute(undefined)
      .catch(() => undefined);
    expect(queryClient.getQueryState(queryKeys.me)?.isInvalidated).toBe(true);

    expect(mayHaveLostRights(error(403), queryKeys.me)).toBe(false);
    expect(mayHaveLostRights(error(404), ["tasks"])).toBe(false);
  });
});
