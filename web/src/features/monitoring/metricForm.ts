/**
 * The "record a metric" form's fields → the API's `CreateMetric`. Checked here the way the
 * server checks them where a typo is cheap to catch (labels as `key:value`, a number for the
 * value), so the problem is shown by its field before any request; the server still has the
 * last word (names, time window) and its answer lands on the same fields.
 */
import type { Schema } from "../../api/client";
import { parseTagFilter } from "./tagFilter";
import type { MetricType } from "./hooks";

export interface MetricFormFields {
  name: string;
  metric_type: MetricType;
  value: string;
  labels: string;
  /** From `<input type="datetime-local">`: local time, no zone (`2025-05-01T12:30`), or "". */
  recorded_at: string;
}

export type MetricFormResult =
  | { ok: true; body: Schema<"CreateMetric"> }
  | { ok: false; problems: Partial<Record<"value" | "labels" | "recorded_at", string>> };

export function metricFromForm(fields: MetricFormFields): MetricFormResult {
  const problems: Partial<Record<"value" | "labels" | "recorded_at", string>> = {};
  const valueText = fields.value.trim();
  const value = Number(valueText);
  // Number("") is 0: an empty value is a missing value, not zero.
  if (valueText === "" || !Number.isFinite(value)) problems.value = "Enter a number.";
  const labels = parseTagFilter(fields.labels);
  if (!labels.ok) problems.labels = labels.problem;
  let recordedAt: string | null = null;
  if (fields.recorded_at.trim() !== "") {
    const when = new Date(fields.recorded_at);
    // The browser's local time, sent with its zone (UTC): the API refuses a time without one.
    if (Number.isNaN(when.getTime())) problems.recorded_at = "Enter a date and time.";
    else recordedAt = when.toISOString();
  }
  if (Object.keys(problems).length > 0 || !labels.ok) return { ok: false, problems };
  return {
    ok: true,
    body: {
      name: fields.name.trim(),
      metric_type: fields.metric_type,
      value,
      labels: labels.tags,
      recorded_at: recordedAt,
    },
  };
}
