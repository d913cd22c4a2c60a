import { useState } from "react";
import { hasRole } from "../auth/roles";
import { useCurrentUser } from "../auth/session";
import { ErrorMessage } from "../components/ErrorMessage";
import { CheckboxField, SelectField, TextField } from "../components/Field";
import { FilterSelect } from "../components/Filters";
import { ChangesForm, CreatePanel } from "../components/Form";
import { when } from "../components/format";
import { PageHeading } from "../components/PageHeading";
import { PagedList } from "../components/PagedList";
import { useAddressFilters } from "../components/useAddressFilters";
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
import { RULE_FIELDS, ruleChanges, ruleFromForm } from "../features/monitoring/alertRule";

/** Alert rules and their state; moderators and admins create, pause and delete them. */
export default function MonitoringAlerts() {
  const me = useCurrentUser();
  const staff = hasRole(me.role, "moderator");
  const { params, page } = useAddressFilters();
  const status = ALERT_STATUSES.find((s) => s === params.get("status"));
  const alerts = useAlerts({ status, ...page });

  return (
    <section>
      <PageHeading>Monitoring alerts</PageHeading>
      <MonitoringNav />
      {staff && <CreateAlert />}
      <div className="filters">
        <FilterSelect
          label="Alert status"
          name="status"
          any="Any status"
          options={ALERT_STATUSES}
        />
      </div>
      <PagedList
        label="Alerts"
        page={alerts.data}
        empty={`No alerts${status ? ` are ${status}` : " yet"}.`}
      >
        {(alert) => <AlertItem key={alert.id} alert={alert} staff={staff} />}
      </PagedList>
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
        {alert.last_evaluated_at && <> at {when(alert.last_evaluated_at)}</>}
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
  return (
    <ChangesForm
      label={`Edit the alert ${alert.name}`}
      mutation={update}
      changesOf={(form) => ruleChanges(alert, ruleFromForm(form))}
      onDone={onDone}
      fieldsShown={RULE_FIELDS}
    >
      <AlertRuleInputs alert={alert} />
      <div className="actions">
        <button type="submit" disabled={update.isPending}>
          Save alert
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </ChangesForm>
  );
}

function CreateAlert() {
  const create = useCreateAlert();
  return (
    <CreatePanel
      label="Create an alert"
      mutation={create}
      bodyOf={ruleFromForm}
      saying={(alert) => `Alert “${alert.name}” created.`}
      fieldsShown={RULE_FIELDS}
      submitLabel="Create alert"
    >
      <AlertRuleInputs />
    </CreatePanel>
  );
}

/** A rule's times, in whole seconds up to a day (the server's limit); `initial`: a new rule's. */
const TIME_FIELDS = [
  { label: "Window (seconds)", name: "window_seconds", min: 1, initial: 300 },
  { label: "Holds for (seconds)", name: "for_seconds", min: 0, initial: 0 },
] as const;

/** The rule's inputs, empty for a new rule or filled from `alert` to edit it. */
function AlertRuleInputs({ alert }: { alert?: Alert }) {
  return (
    <>
      <TextField
        label="Alert name"
        name="name"
        required
        maxLength={200}
        defaultValue={alert?.name}
      />
      <TextField
        label="Metric name"
        name="metric_name"
        required
        placeholder="cpu_usage"
        defaultValue={alert?.metric_name}
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
        />
        <TextField
          label="Threshold"
          name="threshold"
          type="number"
          step="any"
          required
          defaultValue={alert?.threshold}
        />
      </div>
      <div className="filters">
        {TIME_FIELDS.map(({ label, name, min, initial }) => (
          <TextField
            key={name}
            label={label}
            name={name}
            type="number"
            min={min}
            max={86400}
            defaultValue={alert?.[name] ?? initial}
          />
        ))}
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
      />
    </>
  );
}
