import { NavLink } from "react-router";
import { hasRole } from "../../auth/roles";
import { useCurrentUser } from "../../auth/session";

/** Between the monitoring pages; the totals only for staff (the route table's rule). */
export function MonitoringNav() {
  const me = useCurrentUser();
  return (
    <nav aria-label="Monitoring" className="sub-nav">
      <NavLink to="/monitoring" end>
        Events
      </NavLink>
      <NavLink to="/monitoring/metrics">Metrics</NavLink>
      <NavLink to="/monitoring/alerts">Alerts</NavLink>
      <NavLink to="/monitoring/incidents">Incidents</NavLink>
      {hasRole(me.role, "moderator") && <NavLink to="/monitoring/stats">Totals</NavLink>}
    </nav>
  );
}

/** A status or severity as a coloured pill (reusing the task status colours). */
export function Pill({ value }: { value: string }) {
  const tone: Record<string, string> = {
    ok: "completed",
    resolved: "completed",
    closed: "cancelled",
    pending: "retrying",
    investigating: "retrying",
    firing: "failed",
    open: "failed",
    critical: "failed",
    error: "failed",
    high: "failed",
    warn: "retrying",
    medium: "retrying",
  };
  return <span className={`status status-${tone[value] ?? "pending"}`}>{value}</span>;
}
