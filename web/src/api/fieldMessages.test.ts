import { describe, expect, it } from "vitest";
import { errorFromResponse } from "./errors";
import { friendlyFieldMessage } from "./fieldMessages";

/** A 400 as the server sends it for the register form (pydantic's messages, verbatim). */
function refusedRegistration(details: { field: string; message: string; type: string }[]) {
  return errorFromResponse(new Response(null, { status: 400 }), {
    error: { code: "VALIDATION_FAILED", message: "Request validation failed", details },
  });
}

describe("friendlyFieldMessage", () => {
  it("puts a refused username's pattern in words, next to the field", () => {
    const error = refusedRegistration([
      {
        field: "username",
        message: "String should match pattern '^[A-Za-z0-9_-]+$'",
        type: "string_pattern_mismatch",
      },
    ]);
    expect(error.fieldError("username")).toBe("Use letters, digits, _ or - only (no spaces).");
  });

  it("says how long a value must be, and keeps the number", () => {
    expect(
      friendlyFieldMessage(
        "username",
        "string_too_short",
        "String should have at least 3 characters",
      ),
    ).toBe("Too short: use at least 3 characters.");
    expect(
      friendlyFieldMessage("title", "string_too_long", "String should have at most 200 characters"),
    ).toBe("Too long: use at most 200 characters.");
    expect(
      friendlyFieldMessage("title", "string_too_short", "String should have at least 1 character"),
    ).toBe("This cannot be empty.");
  });

  it("keeps the explanation of an invalid e-mail and drops pydantic's prefixes", () => {
    expect(
      friendlyFieldMessage(
        "email",
        "value_error",
        "value is not a valid email address: An email address must have an @-sign.",
      ),
    ).toBe("Not a valid e-mail address: An email address must have an @-sign.");
    expect(friendlyFieldMessage("password", "value_error", "Value error, too common")).toBe(
      "too common",
    );
  });

  it("names no pattern for a field it has no words for, and keeps messages it does not know", () => {
    expect(
      friendlyFieldMessage("payload.pattern", "string_pattern_mismatch", "String should match …"),
    ).toBe("This contains characters that are not allowed here.");
    expect(
      friendlyFieldMessage("payload.n", "greater_than", "Input should be greater than 0"),
    ).toBe("Input should be greater than 0");
    expect(friendlyFieldMessage("x", undefined, "bad characters")).toBe("bad characters");
  });
});
