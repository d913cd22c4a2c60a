import { describe, expect, it } from "vitest";
import { metricFromForm, type MetricFormFields } from "./metricForm";

const base: MetricFormFields = {
  name: " ada_clicks ",
  metric_type: "gauge",
  value: "2.5",
  labels: "",
  recorded_at: "",
};

describe("metricFromForm", () => {
  it("builds the request body, name trimmed, labels parsed, no time = now", () => {
    expect(metricFromForm({ ...base, labels: "env:prod, page:home" })).toEqual({
      ok: true,
      body: {
        name: "ada_clicks",
        metric_type: "gauge",
        value: 2.5,
        labels: { env: "prod", page: "home" },
        recorded_at: null,
      },
    });
  });

  it("refuses an empty value rather than sending zero", () => {
    expect(metricFromForm({ ...base, value: " " })).toEqual({
      ok: false,
      problems: { value: "Enter a number." },
    });
  });

  it("refuses a value that is not a finite number", () => {
    for (const value of ["abc", "Infinity"]) {
      const result = metricFromForm({ ...base, value });
      expect(result.ok).toBe(false);
    }
  });

  it("names the label that is not key:value, with the value problem too", () => {
    const result = metricFromForm({ ...base, value: "x", labels: "env" });
    expect(result).toEqual({
      ok: false,
      problems: {
        value: "Enter a number.",
        labels: "“env” is not key:value (e.g. env:prod,team:search).",
      },
    });
  });

  it("sends a local time with its zone, as the API requires", () => {
    const result = metricFromForm({ ...base, recorded_at: "2025-05-01T12:30" });
    expect(result.ok && result.body.recorded_at).toBe(new Date("2025-05-01T12:30").toISOString());
    expect(result.ok && result.body.recorded_at?.endsWith("Z")).toBe(true);
  });

  it("refuses a time that is not one", () => {
    expect(metricFromForm({ ...base, recorded_at: "soon" })).toEqual({
      ok: false,
      problems: { recorded_at: "Enter a date and time." },
    });
  });
});
