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

  // An empty value is refused rather than sent as zero; a label that is not key:value is
  // named, and every problem of the form is reported at once.
  const NUMBER = "Enter a number.";
  const ENV_LABEL = "“env” is not key:value (e.g. env:prod,team:search).";
  it.each([
    [{ value: " " }, { value: NUMBER }],
    [{ value: "abc" }, { value: NUMBER }],
    [{ value: "Infinity" }, { value: NUMBER }],
    [
      { value: "x", labels: "env" },
      { value: NUMBER, labels: ENV_LABEL },
    ],
    [{ recorded_at: "soon" }, { recorded_at: "Enter a date and time." }],
  ])("refuses %o, saying %o", (fields, problems) => {
    expect(metricFromForm({ ...base, ...fields })).toEqual({ ok: false, problems });
  });

  it("sends a local time with its zone, as the API requires", () => {
    const result = metricFromForm({ ...base, recorded_at: "2025-05-01T12:30" });
    expect(result.ok && result.body.recorded_at).toBe(new Date("2025-05-01T12:30").toISOString());
    expect(result.ok && result.body.recorded_at?.endsWith("Z")).toBe(true);
  });
});
