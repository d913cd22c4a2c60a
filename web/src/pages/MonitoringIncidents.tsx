import { Link } from "react-router";
import { SelectField, TextAreaField, TextField } from "../components/Field";
import { FilterSelect } from "../components/Filters";
import { CreatePanel } from "../components/Form";
import { when } from "../components/format";
import { PageHeading } from "../components/PageHeading";
import { PagedList } from "../components/PagedList";
import { useAddressFilters } from "../components/useAddressFilters";
import { MonitoringNav, Pill } from "../features/monitoring/MonitoringNav";
import {
  INCIDENT_STATUSES,
  SEVERITIES,
  useCreateIncident,
  useIncidents,
} from "../features/monitoring/hooks";

/** Incidents (opened by alerts or by people), newest first; anyone may open one. */
export default function MonitoringIncidents() {
  const { params, page } = useAddressFilters();
  const status = INCIDENT_STATUSES.find((s) => s === params.get("status"));
  const incidents = useIncidents({ status, ...page });

  return (
    <section>
      <PageHeading>Monitoring incidents</PageHeading>
      <MonitoringNav />
      <OpenIncident />
      <div className="filters">
        <FilterSelect
          label="Incident status"
          name="status"
          any="Any status"
          options={INCIDENT_STATUSES}
        />
      </div>
      <PagedList
        label="Incidents"
        page={incidents.data}
        empty={`No incidents${status ? ` are ${status}` : ""}.`}
      >
        {(incident) => (
          <li key={incident.id} className="item">
            <p className="item-title">
              <Link to={`/monitoring/incidents/${incident.id}`}>{incident.title}</Link>{" "}
              <Pill value={incident.status} /> <Pill value={incident.severity} />
            </p>
            <p className="muted small">
              Started {when(incident.started_at)}
              {incident.alert_id && " · opened by an alert"}
            </p>
          </li>
        )}
      </PagedList>
    </section>
  );
}

function OpenIncident() {
  const create = useCreateIncident();
  return (
    <CreatePanel
      label="Open an incident"
      mutation={create}
      bodyOf={(form) => ({
        title: String(form.get("title") ?? "").trim(),
        description: String(form.get("description") ?? "").trim() || null,
        severity: SEVERITIES.find((s) => s === form.get("severity")) ?? "medium",
      })}
      saying={(incident) => (
        <>
          Opened <Link to={`/monitoring/incidents/${incident.id}`}>{incident.title}</Link>.
        </>
      )}
      fieldsShown={["title", "description", "severity"]}
      submitLabel="Open incident"
    >
      <TextField label="Title" name="title" required maxLength={200} />
      <TextAreaField label="Description (optional)" name="description" rows={3} />
      <SelectField label="Severity" name="severity" defaultValue="medium" options={SEVERITIES} />
    </CreatePanel>
  );
}
