import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { ErrorMessage } from "../components/ErrorMessage";
import { fieldErrorOf, SelectField, TextAreaField, TextField } from "../components/Field";
import { PageHeading } from "../components/PageHeading";
import { Pagination } from "../components/Pagination";
import { MonitoringNav, Pill } from "../features/monitoring/MonitoringNav";
import { INCIDENT_STATUSES, SEVERITIES, useCreateIncident, useIncidents } from "../features/monitoring/hooks";

const PAGE_SIZE = 25;

/** Incidents (opened by alerts or by people), newest first; anyone may open one. */
export default function MonitoringIncidents() {
  const [params, setParams] = useSearchParams();
  const status = INCIDENT_STATUSES.find((s) => s === params.get("status"));
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const incidents = useIncidents({ status, limit: PAGE_SIZE, offset });

  function setParam(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== "offset") next.delete("offset");
    setParams(next);
  }

  return (
    <section>
      <PageHeading>Monitoring incidents</PageHeading>
      <MonitoringNav />
      <OpenIncident />
      <div className="filters">
        <SelectField
          label="Incident status"
          name="status"
          value={status ?? ""}
          onChange={(event) => setParam("status", event.target.value)}
          options={[{ value: "", label: "Any status" }, ...INCIDENT_STATUSES]}
        />
      </div>
      {incidents.data && incidents.data.items.length === 0 && <p>No incidents{status ? ` are ${status}` : ""}.</p>}
      {incidents.data && incidents.data.items.length > 0 && (
        <>
          <ul className="item-list" aria-label="Incidents">
            {incidents.data.items.map((incident) => (
              <li key={incident.id} className="item">
                <p className="item-title">
                  <Link to={`/monitoring/incidents/${incident.id}`}>{incident.title}</Link>{" "}
                  <Pill value={incident.status} /> <Pill value={incident.severity} />
                </p>
                <p className="muted small">
                  Started <time dateTime={incident.started_at}>{new Date(incident.started_at).toLocaleString()}</time>
                  {incident.alert_id && " · opened by an alert"}
                </p>
              </li>
            ))}
          </ul>
          <Pagination
            label="Incident pages"
            total={incidents.data.total}
            limit={PAGE_SIZE}
            offset={offset}
            onOffsetChange={(value) => setParam("offset", value ? String(value) : "")}
          />
        </>
      )}
    </section>
  );
}

function OpenIncident() {
  const create = useCreateIncident();
  const [opened, setOpened] = useState<{ id: string; title: string } | null>(null);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const description = String(form.get("description") ?? "").trim();
    setOpened(null);
    create.mutate(
      {
        title: String(form.get("title") ?? "").trim(),
        description: description || null,
        severity: SEVERITIES.find((s) => s === form.get("severity")) ?? "medium",
      },
      {
        onSuccess: (incident) => {
          setOpened({ id: incident.id, title: incident.title });
          formElement.reset();
        },
      },
    );
  }
  return (
    <details className="panel">
      <summary>Open an incident</summary>
      <form onSubmit={submit} noValidate aria-label="Open an incident">
        <ErrorMessage error={create.error} fieldsShown={["title", "description", "severity"]} />
        {opened && (
          <p className="notice" role="status">
            Opened <Link to={`/monitoring/incidents/${opened.id}`}>{opened.title}</Link>.
          </p>
        )}
        <TextField label="Title" name="title" required maxLength={200} error={fieldErrorOf(create.error, "title")} />
        <TextAreaField label="Description (optional)" name="description" rows={3} error={fieldErrorOf(create.error, "description")} />
        <SelectField label="Severity" name="severity" defaultValue="medium" options={SEVERITIES} />
        <button type="submit" disabled={create.isPending}>
          Open incident
        </button>
      </form>
    </details>
  );
}
