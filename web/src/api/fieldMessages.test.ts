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

  // A length keeps its number (1 character: "cannot be empty"); an invalid e-mail keeps its
  // explanation, pydantic's prefixes dropped; a pattern is not named for a field there are no
  // words for; a message it does not know is shown as it is.
  it.each`
    field                | type                         | message                                                                        | shown
    ${"username"}        | ${"string_too_short"}        | ${"String should have at least 3 characters"}                                  | ${"Too short: use at least 3 characters."}
    ${"title"}           | ${"string_too_long"}         | ${"String should have at most 200 characters"}                                 | ${"Too long: use at most 200 characters."}
    ${"title"}           | ${"string_too_short"}        | ${"String should have at least 1 character"}                                   | ${"This cannot be empty."}
    ${"email"}           | ${"value_error"}             | ${"value is not a valid email address: An email address must have an @-sign."} | ${"Not a valid e-mail address: An email address must have an @-sign."}
    ${"password"}        | ${"value_error"}             | ${"Value error, too common"}                                                   | ${"too common"}
    ${"payload.pattern"} | ${"string_pattern_mismatch"} | ${"String should match …"}                                                     | ${"This contains characters that are not allowed here."}
    ${"payload.n"}       | ${"greater_than"}            | ${"Input should be greater than 0"}                                            | ${"Input should be greater than 0"}
    ${"x"}               | ${undefined}                 | ${"bad characters"}                                                            | ${"bad characters"}
  `("$field, $type: $message → $shown", ({ field, type, message, shown }) => {
    expect(friendlyFieldMessage(field, type, message)).toBe(shown);
  });
});
