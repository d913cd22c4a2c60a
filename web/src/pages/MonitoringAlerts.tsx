import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { hasRole } from "../auth/roles";
import { useCurrentUser } from "../auth/session";
import { ErrorMessage } from "../components/ErrorMessage";
import { CheckboxField, fieldErrorOf, SelectField, TextField } from "../components/Field";
import { PageHeading } from "../components/PageHeading";
import { Pagination } from "../components/Pagination";
import { MonitoringNav, Pill } from "../features/monitoring/MonitoringNav";
import {
  AGGREGATIONS,
  ALERT_STATUSES,
  COMPARATORS,
  SEVERITIES,
  useAlerts,
  useCreateAlert,
  useDeleteAlert,
  useUpdateAlert,
  type Alert,
} from "../features/monitoring/hooks";
import { ruleChanges, ruleFromForm } from "../features/monitoring/alertRule";

const PAGE_SIZE = 25;

/** Alert rules and their state; moderators and admins create, pause and delete them. */
export default function MonitoringAlerts() {
  const me = useCurrentUser();
  const staff = hasRole(me.role, "moderator");
  const [params, setParams] = useSearchParams();
  const status = ALERT_STATUSES.find((s) => s === params.get("status"));
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const alerts = useAlerts({ status, limit: PAGE_SIZE, offset });

  function setParam(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== "offset") next.delete("offset");
    setParams(next);
  }

  return (
    <section>
      <PageHeading>Monitoring alerts</PageHeading>
      <MonitoringNav />
      {staff && <CreateAlert />}
      <div className="filters">
        <SelectField
          label="Alert status"
          name="status"
          value={status ?? ""}
          onChange={(event) => setParam("status", event.target.value)}
          options={[{ value: "", label: "Any status" }, ...ALERT_STATUSES]}
        />
      </div>
      {alerts.data && alerts.data.items.length === 0 && (
        <p>No alerts{status ? ` are ${status}` : " yet"}.</p>
      )}
      {alerts.data && alerts.data.items.length > 0 && (
        <>
          <ul className="item-list" aria-label="Alerts">
            {alerts.data.items.map((alert) => (
              <AlertItem key={alert.id} alert={alert} staff={staff} />
            ))}
          </ul>
          {alerts.data.total > PAGE_SIZE && (
            <Pagination
              label="Alert pages"
              total={alerts.data.total}
              limit={PAGE_SIZE}
              offset={offset}
              onOffsetChange={(value) => setParam("offset", value ? String(value) : "")}
            />
          )}
        </>
      )}
    </section>
  );
}

function AlertItem({ alert, staff }: { alert: Alert; staff: boolean }) {
  const update = useUpdateAlert(alert.id);
  const remove = useDeleteAlert(alert.id);
  const [editing, setEditing] = useState(false);
  return (
    <li className="item">
      <h2 className="item-title">
        {alert.name} <Pill value={alert.status} />
        {!alert.is_active && <span className="tag"> paused</span>}
      </h2>
      <p>
        <code>
          {alert.aggregation}({alert.metric_name}) {alert.comparator} {alert.threshold}
        </code>{" "}
        over {alert.window_seconds} s{alert.for_seconds > 0 && `, for ${alert.for_seconds} s`} ·
        severity {alert.severity}
        {alert.opens_incident && " · opens an incident"}
      </p>
      {alert.description && <p>{alert.description}</p>}
      <p className="muted small">
        Last value {alert.last_value ?? "—"}
        {alert.last_evaluated_at && (
          <>
            {" "}
            at{" "}
            <time dateTime={alert.last_evaluated_at}>
              {new Date(alert.last_evaluated_at).toLocaleString()}
            </time>
          </>
        )}
      </p>
      {staff && (
        <div className="actions">
          <button
            type="button"
            className="secondary"
            disabled={update.isPending}
            onClick={() => update.mutate({ is_active: !alert.is_active })}
          >
            {alert.is_active ? "Pause" : "Resume"}
            <span className="visually-hidden"> alert {alert.name}</span>
          </button>
          <button
            type="button"
            className="secondary"
            aria-expanded={editing}
            onClick={() => setEditing((open) => !open)}
          >
            Edit<span className="visually-hidden"> alert {alert.name}</span>
          </button>
          <button
            type="button"
            className="danger"
            disabled={remove.isPending}
            onClick={() => window.confirm(`Delete the alert “${alert.name}”?`) && remove.mutate()}
          >
            Delete<span className="visually-hidden"> alert {alert.name}</span>
          </button>
        </div>
      )}
      {!editing && <ErrorMessage error={update.error ?? remove.error} />}
      {editing && <EditAlert alert={alert} onDone={() => setEditing(false)} />}
    </li>
  );
}

/** Change a rule; a changed condition starts again from `ok` (the server's rule). */
function EditAlert({ alert, onDone }: { alert: Alert; onDone: () => void }) {
  const update = useUpdateAlert(alert.id);
  const [unchanged, setUnchanged] = useState(false);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const body = ruleChanges(alert, ruleFromForm(new FormData(event.currentTarget)));
    setUnchanged(body === null);
    if (body !== null) update.mutate(body, { onSuccess: onDone });
  }
  return (
    <form onSubmit={submit} noValidate aria-label={`Edit the alert ${alert.name}`}>
      <ErrorMessage error={update.error} fieldsShown={RULE_FIELDS} />
      {unchanged && (
        <p className="notice" role="status">
          Nothing changed.
        </p>
      )}
      <AlertRuleInputs alert={alert} error={update.error} />
      <div className="actions">
        <button type="submit" disabled={update.isPending}>
          Save alert
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

const RULE_FIELDS = [
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
];

function CreateAlert() {
  const create = useCreateAlert();
  const [created, setCreated] = useState<string | null>(null);
  const error = create.error;
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const rule = ruleFromForm(form);
    setCreated(null);
    create.mutate(rule, {
      onSuccess: (alert) => {
        setCreated(`Alert “${alert.name}” created.`);
        formElement.reset();
      },
    });
  }
  return (
    <details className="panel">
      <summary>Create an alert</summary>
      <form onSubmit={submit} noValidate aria-label="Create an alert">
        <ErrorMessage error={error} fieldsShown={RULE_FIELDS} />
        {created && (
          <p className="notice" role="status">
            {created}
          </p>
        )}
        <AlertRuleInputs error={error} />
        <button type="submit" disabled={create.isPending}>
          Create alert
        </button>
      </form>
    </details>
  );
}

/** The rule's inputs, empty for a new rule or filled from `alert` to edit it. */
function AlertRuleInputs({ alert, error }: { alert?: Alert; error: unknown }) {
  return (
    <>
      <TextField
        label="Alert name"
        name="name"
        required
        maxLength={200}
        defaultValue={alert?.name}
        error={fieldErrorOf(error, "name")}
      />
      <TextField
        label="Metric name"
        name="metric_name"
        required
        placeholder="cpu_usage"
        defaultValue={alert?.metric_name}
        error={fieldErrorOf(error, "metric_name")}
      />
      <div className="filters">
        <SelectField
          label="Aggregation"
          name="aggregation"
          defaultValue={alert?.aggregation ?? "avg"}
          options={AGGREGATIONS}
        />
        <SelectField
          label="Comparison"
          name="comparator"
          defaultValue={alert?.comparator ?? ">"}
          options={COMPARATORS}
          error={fieldErrorOf(error, "comparator")}
        />
        <TextField
          label="Threshold"
          name="threshold"
          type="number"
          step="any"
          required
          defaultValue={alert?.threshold}
          error={fieldErrorOf(error, "threshold")}
        />
      </div>
      <div className="filters">
        <TextField
          label="Window (seconds)"
          name="window_seconds"
          type="number"
          min={1}
          max={86400}
          defaultValue={alert?.window_seconds ?? 300}
          error={fieldErrorOf(error, "window_seconds")}
        />
        <TextField
          label="Holds for (seconds)"
          name="for_seconds"
          type="number"
          min={0}
          max={86400}
          defaultValue={alert?.for_seconds ?? 0}
          error={fieldErrorOf(error, "for_seconds")}
        />
        <SelectField
          label="Severity"
          name="severity"
          defaultValue={alert?.severity ?? "medium"}
          options={SEVERITIES}
        />
      </div>
      <CheckboxField
        label="Open an incident when it fires"
        name="opens_incident"
        defaultChecked={alert?.opens_incident ?? false}
      />
      <TextField
        label="Description (optional)"
        name="description"
        defaultValue={alert?.description ?? ""}
        error={fieldErrorOf(error, "description")}
      />
    </>
  );
}
