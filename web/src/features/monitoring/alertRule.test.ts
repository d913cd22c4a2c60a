import { describe, expect, it } from "vitest";
import { ruleChanges, ruleFromForm } from "./alertRule";
import type { Alert } from "./hooks";

const alert = {
  id: "a1",
  name: "CPU high",
  metric_name: "cpu_usage",
  comparator: ">",
  threshold: 90,
  aggregation: "avg",
  window_seconds: 300,
  for_seconds: 0,
  severity: "high",
  opens_incident: false,
  description: null,
  is_active: true,
} as unknown as Alert;

function formOf(values: Record<string, string>): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(values)) form.set(key, value);
  return form;
}

/**
 * The edit form as the page fills it from `alert`: each field's value as text (a missing
 * description is an empty box; an unticked checkbox, `opens_incident`, sends nothing).
 */
const same = Object.fromEntries(
  Object.entries(alert)
    .filter(([field]) => !["id", "is_active", "opens_incident"].includes(field))
    .map(([field, value]) => [field, String(value ?? "")]),
);

describe("ruleFromForm", () => {
  it("reads the fields, an empty threshold as NaN (sent as null) rather than 0", () => {
    const rule = ruleFromForm(formOf({ ...same, threshold: "", opens_incident: "on" }));
    expect(rule.threshold).toBeNaN();
    expect(rule.opens_incident).toBe(true);
    expect(rule.description).toBeNull();
  });
});

describe("ruleChanges", () => {
  it("is null when nothing changed", () => {
    expect(ruleChanges(alert, ruleFromForm(formOf(same)))).toBeNull();
  });

  it("sends only the changed fields (a rename is not a new condition)", () => {
    expect(ruleChanges(alert, ruleFromForm(formOf({ ...same, name: "CPU very high" })))).toEqual({
      name: "CPU very high",
    });
    expect(
      ruleChanges(
        alert,
        ruleFromForm(formOf({ ...same, comparator: ">=", threshold: "95", description: "ops" })),
      ),
    ).toEqual({ comparator: ">=", threshold: 95, description: "ops" });
  });

  it("sends a threshold left empty, for the server to name the field", () => {
    const body = ruleChanges(alert, ruleFromForm(formOf({ ...same, threshold: "" })));
    expect(body && Number.isNaN(body.threshold)).toBe(true);
  });
});
