import { useState } from "react";
import { useCurrentUser } from "../auth/session";
import { SelectField, TextField } from "../components/Field";
import { FilterForm, FilterSelect } from "../components/Filters";
import { CreatePanel } from "../components/Form";
import { when } from "../components/format";
import { PageHeading } from "../components/PageHeading";
import { PagedList } from "../components/PagedList";
import { useAddressFilters } from "../components/useAddressFilters";
import { MonitoringNav } from "../features/monitoring/MonitoringNav";
import {
  METRIC_TYPES,
  useMetrics,
  useRecordMetric,
  type Metric,
} from "../features/monitoring/hooks";
import { metricFromForm } from "../features/monitoring/metricForm";
import { formatTagFilter } from "../features/monitoring/tagFilter";
import { TagFilterField } from "../features/monitoring/TagFilterField";
import { useAddressTagFilter } from "../features/monitoring/useTagFilter";

/** Stored metric samples (what alert rules evaluate), newest first; anyone records one. */
export default function MonitoringMetrics() {
  const me = useCurrentUser();
  const { params, page } = useAddressFilters();
  const name = params.get("name") ?? "";
  const metricType = METRIC_TYPES.find((t) => t === params.get("type"));
  const labels = useAddressTagFilter("labels");
  const metrics = useMetrics({
    name: name || undefined,
    metric_type: metricType,
    labels: labels.text || undefined,
    ...page,
  });

  return (
    <section>
      <PageHeading>Monitoring metrics</PageHeading>
      <MonitoringNav />
      <p className="muted">
        Samples stored through the API; alert rules evaluate them. Newest first; refreshes every 30
        s.
      </p>
      <RecordMetric username={me.username} />
      <FilterForm
        label="Filter metrics"
        names={["name", "type", "labels"]}
        accepts={labels.accepts}
        error={metrics.error}
      >
        <TextField label="Metric name" name="name" defaultValue={name} />
        <FilterSelect
          label="Metric type"
          name="type"
          any="Any type"
          options={METRIC_TYPES}
          inFilterForm
        />
        <TagFilterField label="Labels" placeholder="env:prod,page:home" filter={labels} />
      </FilterForm>
      <PagedList label="Metrics" page={metrics.data} empty="No metrics match." countNoun="sample">
        {(metric) => <MetricItem key={metric.id} metric={metric} onLabel={labels.add} />}
      </PagedList>
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
      <p className="muted small">{when(metric.recorded_at)}</p>
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
  function bodyOf(form: FormData) {
    const text = (key: string) => String(form.get(key) ?? "");
    const result = metricFromForm({
      name: text("name"),
      metric_type: METRIC_TYPES.find((t) => t === text("metric_type")) ?? "gauge",
      value: text("value"),
      labels: text("labels"),
      recorded_at: text("recorded_at"),
    });
    setProblems(result.ok ? {} : result.problems);
    return result.ok ? result.body : null;
  }
  return (
    <CreatePanel
      label="Record a metric"
      mutation={record}
      bodyOf={bodyOf}
      saying={(metric) => `Recorded ${metric.name} = ${metric.value}.`}
      fieldsShown={RECORD_FIELDS}
      submitLabel="Record metric"
    >
      <TextField
        label="Name"
        name="name"
        required
        maxLength={200}
        defaultValue={`${username}_`}
        hint="Yours (<username>_…) or a generic one such as cpu_usage; not ending in _total, _count, _sum."
        error={problems.name}
      />
      <div className="filters">
        <SelectField
          label="Type"
          name="metric_type"
          defaultValue="gauge"
          options={METRIC_TYPES}
          error={problems.metric_type}
        />
        <TextField
          label="Value"
          name="value"
          type="number"
          step="any"
          required
          error={problems.value}
        />
      </div>
      <TextField
        label="Metric labels"
        name="labels"
        placeholder="env:prod,page:home"
        error={problems.labels}
      />
      <TextField
        label="Recorded at (optional)"
        name="recorded_at"
        type="datetime-local"
        hint="Your local time; empty: now. Within the last 30 days."
        error={problems.recorded_at}
      />
    </CreatePanel>
  );
}
