import { CountCards } from "../components/CountCards";
import { PageHeading } from "../components/PageHeading";
import { MonitoringNav, Pill } from "../features/monitoring/MonitoringNav";
import { useMonitoringStats } from "../features/monitoring/hooks";

/** Totals of the monitoring data (moderators and admins): how much there is, how busy. */
export default function MonitoringStats() {
  const { data: stats } = useMonitoringStats();
  return (
    <section>
      <PageHeading>Monitoring totals</PageHeading>
      <MonitoringNav />
      {!stats ? (
        <p className="muted">Loading the counts…</p>
      ) : (
        <>
          <CountCards
            title="Stored"
            counts={[
              ["events", stats.events.total],
              ["events in the last hour", stats.events.last_hour],
              ["metric samples", stats.metrics.total],
              ["samples in the last hour", stats.metrics.last_hour],
            ]}
          />
          <CountCards title="Events by level" counts={stats.events_by_level} />
          <CountCards
            title="Alerts by status"
            counts={stats.alerts}
            renderLabel={(status) => <Pill value={status} />}
          />
          <CountCards
            title="Incidents by status"
            counts={stats.incidents}
            renderLabel={(status) => <Pill value={status} />}
          />
        </>
      )}
    </section>
  );
}
