import type { ReactNode } from "react";
import { useParams } from "react-router";
import { hasRole } from "../auth/roles";
import { useCurrentUser } from "../auth/session";
import { BackLink } from "../components/BackLink";
import { DescriptionList } from "../components/DescriptionList";
import { ErrorMessage } from "../components/ErrorMessage";
import { SelectField, TextAreaField } from "../components/Field";
import { Form } from "../components/Form";
import { when } from "../components/format";
import { Loading } from "../components/Loading";
import { PageHeading } from "../components/PageHeading";
import { EventItem } from "../features/monitoring/EventItem";
import { MonitoringNav, Pill } from "../features/monitoring/MonitoringNav";
import {
  INCIDENT_STATUSES,
  SEVERITIES,
  useIncident,
  useIncidentTimeline,
  useUpdateIncident,
  type Incident,
} from "../features/monitoring/hooks";

/** One incident: its state, an update form (its creator and staff), and its timeline. */
export default function IncidentDetail() {
  const { incidentId = "" } = useParams();
  const me = useCurrentUser();
  const { data: incident } = useIncident(incidentId);
  if (!incident) return <Loading />;
  const mayUpdate = hasRole(me.role, "moderator") || incident.created_by === me.id;
  return (
    <section>
      <BackLink to="/monitoring/incidents">All incidents</BackLink>
      <PageHeading
        title={`Incident ${incident.title}`}
      >{`Incident: ${incident.title}`}</PageHeading>
      <MonitoringNav />
      <p>
        <Pill value={incident.status} /> <Pill value={incident.severity} />
      </p>
      {incident.description && <p className="note-content">{incident.description}</p>}
      <DescriptionList
        items={{
          Started: when(incident.started_at),
          Resolved: when(incident.resolved_at),
          "Root cause": incident.root_cause ?? "—",
          "Assigned to": assigneeOf(incident, me.id),
          "Opened by": openerOf(incident, me.id),
        }}
      />
      {hasRole(me.role, "moderator") && <Assignment incident={incident} myId={me.id} />}
      {mayUpdate && <UpdateIncident incident={incident} />}
      <Timeline incidentId={incident.id} />
    </section>
  );
}

/** Who works on the incident, as the signed-in user (`myId`) reads it. */
function assigneeOf(incident: Incident, myId: string): ReactNode {
  if (incident.assigned_to === myId) return "you";
  if (!incident.assigned_to) return "nobody";
  return incident.assigned_to_username ?? <code>{incident.assigned_to}</code>;
}

/** Who opened the incident: an alert, or a person (perhaps the signed-in user), by name. */
function openerOf(incident: Incident, myId: string): string {
  if (incident.alert_id) return "an alert";
  if (incident.created_by === myId) return "you";
  return incident.created_by_username ?? "a person";
}

/** The incident's events and its alert's, oldest first (re-read as they arrive). */
function Timeline({ incidentId }: { incidentId: string }) {
  const timeline = useIncidentTimeline(incidentId);
  return (
    <>
      <h2>Timeline</h2>
      {timeline.data === undefined ? (
        <Loading label="Loading the timeline…" />
      ) : timeline.data.length === 0 ? (
        <p>No events yet.</p>
      ) : (
        <ol className="item-list timeline" aria-label="Timeline">
          {timeline.data.map((event) => (
            <EventItem key={event.id} event={event} />
          ))}
        </ol>
      )}
    </>
  );
}

/** Staff only (the API refuses `assigned_to` from others): take the incident, or let it go. */
function Assignment({ incident, myId }: { incident: Incident; myId: string }) {
  const assign = useUpdateIncident(incident.id);
  const mine = incident.assigned_to === myId;
  return (
    <div className="actions">
      <button
        type="button"
        className="secondary"
        disabled={assign.isPending}
        onClick={() => assign.mutate({ assigned_to: mine ? null : myId })}
      >
        {mine ? "Unassign me" : "Assign to me"}
      </button>
      <ErrorMessage error={assign.error} />
    </div>
  );
}

function UpdateIncident({ incident }: { incident: Incident }) {
  const update = useUpdateIncident(incident.id);
  function submit(form: FormData) {
    const rootCause = String(form.get("root_cause") ?? "").trim();
    update.mutate({
      status: INCIDENT_STATUSES.find((s) => s === form.get("status")) ?? incident.status,
      severity: SEVERITIES.find((s) => s === form.get("severity")) ?? incident.severity,
      root_cause: rootCause || null,
    });
  }
  return (
    <>
      <h2>Update</h2>
      <Form
        label="Update the incident"
        onSubmit={submit}
        error={update.error}
        fieldsShown={["status", "severity", "root_cause"]}
        notice={update.isSuccess && "Incident updated."}
      >
        <div className="filters">
          <SelectField
            label="Status"
            name="status"
            defaultValue={incident.status}
            options={INCIDENT_STATUSES}
          />
          <SelectField
            label="Severity"
            name="severity"
            defaultValue={incident.severity}
            options={SEVERITIES}
          />
        </div>
        <TextAreaField
          label="Root cause"
          name="root_cause"
          rows={3}
          defaultValue={incident.root_cause ?? ""}
        />
        <button type="submit" disabled={update.isPending}>
          Save incident
        </button>
      </Form>
    </>
  );
}
