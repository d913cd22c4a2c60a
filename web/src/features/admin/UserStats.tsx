import { CountCards } from "../../components/CountCards";
import { useUserStats } from "./hooks";

/** The accounts in numbers (admins only: the API answers 403 to anyone else). */
export function UserStats() {
  const { data: stats } = useUserStats();
  return (
    <details className="panel">
      <summary>Totals</summary>
      {!stats ? (
        <p className="muted">Loading the counts…</p>
      ) : (
        <>
          <CountCards
            title="Accounts"
            counts={[
              ["in all", stats.total],
              ["active", stats.active],
              ["inactive", stats.inactive],
              ["deleted", stats.deleted],
              ["email verified", stats.email_verified],
            ]}
          />
          <CountCards title="By role" counts={stats.by_role} />
          <CountCards
            title="Registrations"
            counts={[
              ["last 24 hours", stats.recent_registrations.last_24h],
              ["last 7 days", stats.recent_registrations.last_7d],
              ["last 30 days", stats.recent_registrations.last_30d],
            ]}
          />
        </>
      )}
    </details>
  );
}
