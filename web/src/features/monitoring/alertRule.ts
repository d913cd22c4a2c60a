/**
 * The alert rule form (create and edit share it) → the API's bodies. Editing sends only the
 * fields that changed: the server starts a rule whose condition changed again from `ok`, so
 * renaming a rule must not look like a new condition.
 */
import type { Schema } from "../../api/client";
import { AGGREGATIONS, COMPARATORS, SEVERITIES, type Alert, type AlertRuleFields } from "./hooks";

/** The rule's fields from the form (`FormData` of `AlertRuleInputs`). */
export function ruleFromForm(form: FormData): AlertRuleFields {
  const text = (name: string) => String(form.get(name) ?? "").trim();
  return {
    name: text("name"),
    metric_name: text("metric_name"),
    comparator: COMPARATORS.find((c) => c === text("comparator")) ?? ">",
    // Left empty: NaN is sent as null, so the server names the field (Number("") would be 0).
    threshold: text("threshold") === "" ? Number.NaN : Number(text("threshold")),
    aggregation: AGGREGATIONS.find((a) => a === text("aggregation")) ?? "avg",
    window_seconds: Number(text("window_seconds")),
    for_seconds: Number(text("for_seconds")),
    severity: SEVERITIES.find((s) => s === text("severity")) ?? "medium",
    opens_incident: form.get("opens_incident") === "on",
    is_active: true,
    description: text("description") || null,
  };
}

/** The rule's fields: the form's inputs, and what an edit compares. */
export const RULE_FIELDS = [
  "name",
  "metric_name",
  "comparator",
  "threshold",
  "aggregation",
  "window_seconds",
  "for_seconds",
  "severity",
  "opens_incident",
  "description",
] as const;

/** The `UpdateAlert` body of what differs from `alert`; `null` when nothing does. */
export function ruleChanges(alert: Alert, rule: AlertRuleFields): Schema<"UpdateAlert"> | null {
  const body: Record<string, unknown> = {};
  for (const field of RULE_FIELDS) {
    const now = rule[field] ?? null;
    if (!Object.is(now, alert[field] ?? null)) body[field] = now;
  }
  return Object.keys(body).length > 0 ? (body as Schema<"UpdateAlert">) : null;
}
