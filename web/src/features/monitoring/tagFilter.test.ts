import { describe, expect, it } from "vitest";
import { MAX_TAG_FILTERS, parseTagFilter, withTag } from "./tagFilter";

describe("parseTagFilter", () => {
  it("reads key:value pairs, trimming spaces; values may hold colons", () => {
    expect(parseTagFilter(" env : prod ,url:http://x")).toEqual({ ok: true, tags: { env: "prod", url: "http://x" } });
    expect(parseTagFilter("")).toEqual({ ok: true, tags: {} });
  });

  it.each([["env"], ["env:"], [":prod"], ["env:prod,"], ["env:prod,,team:a"]])("refuses %j, saying which item", (text) => {
    const result = parseTagFilter(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(/key:value/);
  });

  it("refuses a key given twice and more than the server's limit", () => {
    expect(parseTagFilter("env:a,env:b")).toEqual({ ok: false, problem: "The key “env” is given twice." });
    const many = Array.from({ length: MAX_TAG_FILTERS + 1 }, (_, i) => `k${i}:v`).join(",");
    expect(parseTagFilter(many).ok).toBe(false);
  });
});

describe("withTag", () => {
  it("adds a tag to the filter, replacing the key's value", () => {
    expect(withTag("", "env", "prod")).toBe("env:prod");
    expect(withTag("env:dev,team:a", "env", "prod")).toBe("env:prod,team:a");
  });
});
