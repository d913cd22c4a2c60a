import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useCurrentUser } from "../auth/session";
import { ErrorMessage } from "../components/ErrorMessage";
import { fieldErrorOf, SelectField, TextField } from "../components/Field";
import { PageHeading } from "../components/PageHeading";
import { Pagination } from "../components/Pagination";
import { MonitoringNav } from "../features/monitoring/MonitoringNav";
import {
  METRIC_TYPES,
  useMetrics,
  useRecordMetric,
  type Metric,
} from "../features/monitoring/hooks";
import { metricFromForm, type MetricFormFields } from "../features/monitoring/metricForm";
import { formatTagFilter, parseTagFilter, withTag } from "../features/monitoring/tagFilter";

const PAGE_SIZE = 25;
const FILTERS = ["name", "type", "labels"] as const;

/** Stored metric samples (what alert rules evaluate), newest first; anyone records one. */
export default function MonitoringMetrics() {
  const me = useCurrentUser();
  const [params, setParams] = useSearchParams();
  const name = params.get("name") ?? "";
  const metricType = METRIC_TYPES.find((t) => t === params.get("type"));
  const labels = params.get("labels") ?? "";
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const metrics = useMetrics({
    name: name || undefined,
    metric_type: metricType,
    labels: labels || undefined,
    limit: PAGE_SIZE,
    offset,
  });
  const [labelProblem, setLabelProblem] = useState<string | null>(null);

  function apply(values: Partial<Record<(typeof FILTERS)[number] | "offset", string>>) {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(values)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    if (!("offset" in values)) next.delete("offset");
    setParams(next);
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const parsed = parseTagFilter(String(form.get("labels") ?? ""));
    setLabelProblem(parsed.ok ? null : parsed.problem);
    if (!parsed.ok) return;
    apply(Object.fromEntries(FILTERS.map((key) => [key, String(form.get(key) ?? "").trim()])));
  }

  const error = metrics.error;
  return (
    <section>
      <PageHeading>Monitoring metrics</PageHeading>
      <MonitoringNav />
      <p className="muted">
        Samples stored through the API; alert rules evaluate them. Newest first; refreshes every 30
        s.
      </p>
      <RecordMetric username={me.username} />
      <form
        key={params.toString()}
        onSubmit={submit}
        noValidate
        aria-label="Filter metrics"
        className="filters"
      >
        <TextField
          label="Metric name"
          name="name"
          defaultValue={name}
          error={fieldErrorOf(error, "name") ?? fieldErrorOf(error, "query.name")}
        />
        <SelectField
          label="Metric type"
          name="type"
          defaultValue={metricType ?? ""}
          options={[{ value: "", label: "Any type" }, ...METRIC_TYPES]}
        />
        <TextField
          label="Labels"
          name="labels"
          defaultValue={labels}
          placeholder="env:prod,page:home"
          hint="key:value pairs, separated by commas; all must match."
          error={
            labelProblem ?? fieldErrorOf(error, "labels") ?? fieldErrorOf(error, "query.labels")
          }
        />
        <div className="actions">
          <button type="submit">Apply filters</button>
          <button
            type="button"
            className="secondary"
            onClick={() => setParams(new URLSearchParams())}
          >
            Clear
          </button>
        </div>
      </form>
      <ErrorMessage error={error} fieldsShown={["name", "query.name", "labels", "query.labels"]} />
      {metrics.data && metrics.data.items.length === 0 && <p>No metrics match.</p>}
      {metrics.data && metrics.data.items.length > 0 && (
        <>
          <p className="muted" aria-live="polite">
            {metrics.data.total} sample{metrics.data.total === 1 ? "" : "s"}
          </p>
          <ul className="item-list" aria-label="Metrics">
            {metrics.data.items.map((metric) => (
              <MetricItem
                key={metric.id}
                metric={metric}
                onLabel={(k, v) => apply({ labels: withTag(labels, k, v) })}
              />
            ))}
          </ul>
          {metrics.data.total > PAGE_SIZE && (
            <Pagination
              label="Metric pages"
              total={metrics.data.total}
              limit={PAGE_SIZE}
              offset={offset}
              onOffsetChange={(value) => apply({ offset: value ? String(value) : "" })}
            />
          )}
        </>
      )}
    </section>
  );
}

function MetricItem({
  metric,
  onLabel,
}: {
  metric: Metric;
  onLabel: (key: string, value: string) => void;
}) {
  const labels = Object.entries(metric.labels);
  return (
    <li className="item">
      <p>
        <code>{metric.name}</code> <span className="tag">{metric.metric_type}</span>{" "}
        <strong>{metric.value}</strong>
      </p>
      <p className="muted small">
        <time dateTime={metric.recorded_at}>{new Date(metric.recorded_at).toLocaleString()}</time>
      </p>
      {labels.length > 0 && (
        <p className="small">
          {labels.map(([key, value]) => (
            <button
              key={key}
              type="button"
              className="tag"
              onClick={() => onLabel(key, value)}
              aria-label={`Filter by label ${formatTagFilter({ [key]: value })}`}
            >
              {key}:{value}
            </button>
          ))}
        </p>
      )}
    </li>
  );
}

const RECORD_FIELDS = ["name", "metric_type", "value", "labels", "recorded_at"];

/** Record one sample, e.g. to make an alert rule fire on your own data. */
function RecordMetric({ username }: { username: string }) {
  const record = useRecordMetric();
  const [problems, setProblems] = useState<Partial<Record<string, string>>>({});
  const [recorded, setRecorded] = useState<string | null>(null);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const text = (key: string) => String(form.get(key) ?? "");
    const fields: MetricFormFields = {
      name: text("name"),
      metric_type: METRIC_TYPES.find((t) => t === text("metric_type")) ?? "gauge",
      value: text("value"),
      labels: text("labels"),
      recorded_at: text("recorded_at"),
    };
    const result = metricFromForm(fields);
    setRecorded(null);
    setProblems(result.ok ? {} : result.problems);
    if (!result.ok) return;
    record.mutate(result.body, {
      onSuccess: (metric) => {
        setRecorded(`Recorded ${metric.name} = ${metric.value}.`);
        formElement.reset();
      },
    });
  }
  const error = record.error;
  const problemOf = (key: string) => problems[key] ?? fieldErrorOf(error, key);
  return (
    <details className="panel">
      <summary>Record a metric</summary>
      <form onSubmit={submit} noValidate aria-label="Record a metric">
        <ErrorMessage error={error} fieldsShown={RECORD_FIELDS} />
        {recorded && (
          <p className="notice" role="status">
            {recorded}
          </p>
        )}
        <TextField
          label="Name"
          name="name"
          required
          maxLength={200}
          defaultValue={`${username}_`}
          hint="Yours (<username>_…) or a generic one such as cpu_usage; not ending in _total, _count, _sum."
          error={problemOf("name")}
        />
        <div className="filters">
          <SelectField
            label="Type"
            name="metric_type"
            defaultValue="gauge"
            options={METRIC_TYPES}
            error={problemOf("metric_type")}
          />
          <TextField
            label="Value"
            name="value"
            type="number"
            step="any"
            required
            error={problemOf("value")}
          />
        </div>
        <TextField
          label="Metric labels"
          name="labels"
          placeholder="env:prod,page:home"
          error={problemOf("labels")}
        />
        <TextField
          label="Recorded at (optional)"
          name="recorded_at"
          type="datetime-local"
          hint="Your local time; empty: now. Within the last 30 days."
          error={problemOf("recorded_at")}
        />
        <button type="submit" disabled={record.isPending}>
          Record metric
        </button>
      </form>
    </details>
  );
}
