import { describe, expect, it } from "vitest";
import { profileChanges } from "./profileChanges";

const before = { username: "ada", email: "ada@example.org", email_verified: true };

describe("profileChanges", () => {
  it("is null when nothing changed (spaces and the email's case do not count)", () => {
    expect(profileChanges(before, { ...before, username: " ada ", email: "ADA@example.org" })).toBe(
      null,
    );
  });

  it("sends only what changed", () => {
    expect(profileChanges(before, { ...before, email: " new@example.org " })).toEqual({
      email: "new@example.org",
    });
    expect(profileChanges(before, { ...before, email_verified: false })).toEqual({
      email_verified: false,
    });
  });

  it("sends a changed username as typed, trimmed", () => {
    expect(profileChanges(before, { ...before, username: "ada_l" })).toEqual({
      username: "ada_l",
    });
  });
});
