import { describe, expect, it } from "vitest";
import { safeNext, signInPathFor } from "./redirect";

describe("signInPathFor", () => {
  it("remembers the whole place: path, query and fragment", () => {
    expect(signInPathFor({ pathname: "/tasks", search: "?status=failed", hash: "#top" })).toBe(
      "/sign-in?next=%2Ftasks%3Fstatus%3Dfailed%23top",
    );
  });
  it("does not send the user back to the sign-in page itself", () => {
    expect(signInPathFor({ pathname: "/sign-in", search: "?next=%2Ftasks" })).toBe("/sign-in");
  });
});

describe("safeNext", () => {
  it("accepts a path of this app", () => {
    expect(safeNext("/tasks/42?x=1")).toBe("/tasks/42?x=1");
  });
  it("refuses anything that would leave the app (open redirect)", () => {
    for (const next of [
      "https://evil.example/",
      "//evil.example",
      "/\\evil.example",
      "javascript:alert(1)",
    ]) {
      expect(safeNext(next)).toBe("/");
    }
    expect(safeNext(null)).toBe("/");
    expect(safeNext("/register")).toBe("/");
  });
});
