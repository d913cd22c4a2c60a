/**
 * The server's validation messages are pydantic's, written for programmers: "String should
 * match pattern '^[A-Za-z0-9_-]+$'". A person filling a form needs the rule in words.
 * `friendlyFieldMessage` rewrites the messages whose wording is technical, by the error's
 * `type` (pydantic's error type, sent in each `details` entry) and the field it is about;
 * a message it does not know is shown as the server wrote it.
 */

/** What each field with a pattern allows, in words (by the field's last name segment). */
const PATTERN_RULES: Readonly<Record<string, string>> = {
  username: "Use letters, digits, _ or - only (no spaces).",
  task_type: "Use letters, digits, _ or - only (no spaces).",
  source: "Use letters, digits and _ . : / - only (no spaces).",
  metric_name: "Start with a letter, _ or :, then letters, digits, _ or : only.",
};

const GENERIC_PATTERN_RULE = "This contains characters that are not allowed here.";

/** The last segment of a field path: `payload.items.0.name` → `name`. */
function baseName(field: string): string {
  const parts = field.split(".").filter((part) => !/^\d+$/.test(part));
  return parts[parts.length - 1] ?? field;
}

function countIn(message: string): number | null {
  const found = /(\d+)/.exec(message);
  return found?.[1] ? Number(found[1]) : null;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** The sentence to show next to `field` for one of the server's validation problems. */
export function friendlyFieldMessage(field: string, type: string | undefined, message: string) {
  switch (type) {
    case "string_pattern_mismatch":
      return PATTERN_RULES[baseName(field)] ?? GENERIC_PATTERN_RULE;
    case "string_too_short": {
      const count = countIn(message);
      return count === null
        ? message
        : count === 1
          ? "This cannot be empty."
          : `Too short: use at least ${plural(count, "character")}.`;
    }
    case "string_too_long": {
      const count = countIn(message);
      return count === null ? message : `Too long: use at most ${plural(count, "character")}.`;
    }
    case "missing":
      return "This is required.";
    case "value_error":
      // "value is not a valid email address: An email address must have an @-sign."
      // and "Value error, <a validator's own sentence>": the sentence after the prefix.
      return message
        .replace(/^value is not a valid email address: /, "Not a valid e-mail address: ")
        .replace(/^Value error, /, "");
    default:
      return message;
  }
}
