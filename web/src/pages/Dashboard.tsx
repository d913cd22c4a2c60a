import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, call, callPage } from "../api/client";
import { queryKeys } from "../api/queryKeys";
import { hasRole } from "../auth/roles";
import { useCurrentUser } from "../auth/session";
import { ErrorMessage } from "../components/ErrorMessage";
import { JsonBlock } from "../components/JsonBlock";
import { PageHeading } from "../components/PageHeading";
import { StatusBadge } from "../features/tasks/StatusBadge";
import { TASK_STATUSES, useTaskCount, type TaskStatus } from "../features/tasks/hooks";

/** The system's health, my tasks by status, and my unread notifications. */
export default function Dashboard() {
  const me = useCurrentUser();
  return (
    <section>
      <PageHeading>Dashboard</PageHeading>
      <p>
        Signed in as {me.username} ({me.role}).
      </p>
      <Health />
      {me.role === "admin" && <AdminHealth />}
      {/* GET /tasks lists everyone's tasks for moderators and admins. */}
      <h2>{hasRole(me.role, "moderator") ? "All tasks" : "My tasks"}</h2>
      <ul className="cards" aria-label="Tasks by status">
        {TASK_STATUSES.map((status) => (
          <TaskCountCard key={status} status={status} />
        ))}
      </ul>
      <p>
        <Link to="/tasks/new">Create a task</Link>
      </p>
      <UnreadNotifications />
    </section>
  );
}

function Health() {
  // An unhealthy system answers 503: shown here, not thrown to the page's boundary.
  const health = useQuery({
    queryKey: queryKeys.health,
    queryFn: () => call(api.GET("/api/v1/health")),
    throwOnError: false,
    refetchInterval: 30_000,
    refetchIntervalInBackground: false,
  });
  return (
    <>
      <h2>System health</h2>
      {health.isPending && <p className="muted">Checking…</p>}
      {health.error && <ErrorMessage error={health.error} />}
      {health.data && (
        <p>
          <span
            className={`status status-${health.data.status === "healthy" ? "completed" : "retrying"}`}
          >
            {health.data.status}
          </span>{" "}
          version {health.data.version}, up {formatUptime(health.data.uptime)}
        </p>
      )}
    </>
  );
}

/** Every check with its details (admins: database target, worker hosts, error texts). */
function AdminHealth() {
  const health = useQuery({
    queryKey: queryKeys.adminHealth,
    queryFn: () => call(api.GET("/api/v1/admin/health")),
    throwOnError: false,
  });
  return (
    <details className="panel">
      <summary>Every health check (admins)</summary>
      {health.isPending && <p className="muted">Checking…</p>}
      {health.error && <ErrorMessage error={health.error} />}
      {health.data && (
        <ul className="item-list" aria-label="Health checks">
          {Object.entries(health.data.checks).map(([name, check]) => (
            <li key={name} className="item">
              <h3 className="item-title">
                {name}{" "}
                <span
                  className={`status status-${check.status === "healthy" ? "completed" : "retrying"}`}
                >
                  {check.status}
                </span>
              </h3>
              <p>{check.message}</p>
              <JsonBlock value={check.details} label={`Details of ${name}`} />
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

function TaskCountCard({ status }: { status: TaskStatus }) {
  const count = useTaskCount(status);
  return (
    <li className="card">
      <Link to={`/tasks?status=${status}`} aria-label={`${status}: ${count.data ?? "…"} tasks`}>
        <span className="number">{count.data ?? "…"}</span>
      </Link>
      <StatusBadge status={status} />
    </li>
  );
}

function UnreadNotifications() {
  const unread = useQuery({
    queryKey: queryKeys.notifications.unreadCount,
    queryFn: async () =>
      (
        await callPage(
          api.GET("/api/v1/notifications", { params: { query: { unread_only: true, limit: 1 } } }),
        )
      ).total,
    refetchInterval: 30_000,
    refetchIntervalInBackground: false,
  });
  return (
    <>
      <h2>Notifications</h2>
      <p>
        {unread.data === undefined
          ? "…"
          : unread.data === 0
            ? "No unread notifications."
            : `${unread.data} unread notification${unread.data === 1 ? "" : "s"}.`}
      </p>
    </>
  );
}

/** 3725 → "1 h 2 min". */
export function formatUptime(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return `${Math.floor(seconds)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 1) return `${minutes} min`;
  const days = Math.floor(hours / 24);
  return days >= 1 ? `${days} d ${hours % 24} h` : `${hours} h ${minutes % 60} min`;
}
