/**
 * The week-7 monitoring feature. Who may do what (the API's rules):
 * - events: anyone signed in reads (their own; staff: everyone's) and records;
 * - alerts: anyone reads; moderators and admins create, change and delete;
 * - incidents: anyone reads and opens one; its creator and staff update it; only staff
 *   assign it;
 * - stored metrics: anyone signed in records (under their own or a generic name) and reads;
 * - the totals (`/monitoring/stats`): moderators and admins.
 */
import { useQuery } from "@tanstack/react-query";
import { api, call, callVoid, type Schema } from "../../api/client";
import { listQueryHook, refreshEvery, useInvalidatingMutation } from "../../api/queries";
import { queryKeys } from "../../api/queryKeys";

export type MonitoringEvent = Schema<"EventOut">;
export type EventType = Schema<"EventType">;
export type EventLevel = Schema<"EventLevel">;
export type Alert = Schema<"AlertOut">;
export type AlertStatus = Schema<"AlertStatus">;
export type Incident = Schema<"IncidentOut">;
export type IncidentStatus = Schema<"IncidentStatus">;
export type IncidentSeverity = Schema<"IncidentSeverity">;
export type Metric = Schema<"MetricOut">;
export type MetricType = Schema<"MetricType">;

export const EVENT_TYPES: readonly EventType[] = ["log", "metric", "trace", "alert"];
export const EVENT_LEVELS: readonly EventLevel[] = ["debug", "info", "warn", "error", "critical"];
export const ALERT_STATUSES: readonly AlertStatus[] = ["ok", "pending", "firing", "resolved"];
export const INCIDENT_STATUSES: readonly IncidentStatus[] = [
  "open",
  "investigating",
  "resolved",
  "closed",
];
export const SEVERITIES: readonly IncidentSeverity[] = ["low", "medium", "high", "critical"];
export const METRIC_TYPES: readonly MetricType[] = ["counter", "gauge", "histogram", "summary"];
export const COMPARATORS = [">", ">=", "<", "<=", "==", "!="] as const;
export const AGGREGATIONS = ["avg", "max", "min", "sum", "count", "rate"] as const;

/** Monitoring lists change on their own (alerts fire, events arrive): re-read each 30 s. */
const LIVE = refreshEvery(30_000);

/** Lists whose filters the user types (tags, labels): a refused one shows by its field. */
const FILTERED_LIVE = { ...LIVE, throwOnError: false } as const;

/** Every monitoring change can move the totals, the lists and an incident's timeline. */
function useMonitoringMutation<Input, Output>(run: (input: Input) => Promise<Output>) {
  return useInvalidatingMutation([queryKeys.monitoring.all], run);
}

/** Events, newest first. A refused filter is shown by its field, not thrown to the page. */
export const useEvents = listQueryHook(
  "/api/v1/monitoring/events",
  queryKeys.monitoring.events,
  FILTERED_LIVE,
);

/** Record an event (users: under their own source, `user:<username>`, or a generic one). */
export function useCreateEvent() {
  return useMonitoringMutation((body: Schema<"CreateEvent">) =>
    call(api.POST("/api/v1/monitoring/events", { body })),
  );
}

export const useAlerts = listQueryHook(
  "/api/v1/monitoring/alerts",
  queryKeys.monitoring.alerts,
  LIVE,
);

/** A rule in studypath's fields (the guide's `query` form is the API's other shape). */
export type AlertRuleFields = Extract<Schema<"AlertRule">, { metric_name: string }>;

export function useCreateAlert() {
  return useMonitoringMutation((body: AlertRuleFields) =>
    call(api.POST("/api/v1/monitoring/alerts", { body })),
  );
}

export function useUpdateAlert(alertId: string) {
  return useMonitoringMutation((body: Schema<"UpdateAlert">) =>
    call(
      api.PUT("/api/v1/monitoring/alerts/{alert_id}", {
        params: { path: { alert_id: alertId } },
        body,
      }),
    ),
  );
}

export function useDeleteAlert(alertId: string) {
  return useMonitoringMutation(() =>
    callVoid(
      api.DELETE("/api/v1/monitoring/alerts/{alert_id}", {
        params: { path: { alert_id: alertId } },
      }),
    ),
  );
}

export const useIncidents = listQueryHook(
  "/api/v1/monitoring/incidents",
  queryKeys.monitoring.incidents,
  LIVE,
);

export function useIncident(incidentId: string) {
  return useQuery({
    queryKey: queryKeys.monitoring.incident(incidentId),
    queryFn: () =>
      call(
        api.GET("/api/v1/monitoring/incidents/{incident_id}", {
          params: { path: { incident_id: incidentId } },
        }),
      ),
  });
}

/** The incident's events and its alert's, oldest first. */
export function useIncidentTimeline(incidentId: string) {
  return useQuery({
    queryKey: queryKeys.monitoring.timeline(incidentId),
    queryFn: () =>
      call(
        api.GET("/api/v1/monitoring/incidents/{incident_id}/timeline", {
          params: { path: { incident_id: incidentId } },
        }),
      ),
    ...LIVE,
  });
}

export function useCreateIncident() {
  return useMonitoringMutation((body: Schema<"CreateIncident">) =>
    call(api.POST("/api/v1/monitoring/incidents", { body })),
  );
}

export function useUpdateIncident(incidentId: string) {
  return useMonitoringMutation((body: Schema<"UpdateIncident">) =>
    call(
      api.PUT("/api/v1/monitoring/incidents/{incident_id}", {
        params: { path: { incident_id: incidentId } },
        body,
      }),
    ),
  );
}

/** Stored metric samples, newest first. A refused filter is shown by its field. */
export const useMetrics = listQueryHook(
  "/api/v1/monitoring/metrics",
  queryKeys.monitoring.metrics,
  FILTERED_LIVE,
);

/** Store one sample (users: under `<username>_…` or a generic name; others are 403). */
export function useRecordMetric() {
  return useMonitoringMutation((body: Schema<"CreateMetric">) =>
    call(api.POST("/api/v1/monitoring/metrics", { body })),
  );
}

/** Totals and last-hour counts (moderators and admins). */
export function useMonitoringStats() {
  return useQuery({
    queryKey: queryKeys.monitoring.stats,
    queryFn: () => call(api.GET("/api/v1/monitoring/stats")),
    ...LIVE,
  });
}
