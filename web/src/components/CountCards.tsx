import type { ReactNode } from "react";

/**
 * A titled group of counts as cards (the queue page's look): `{label: count}` in the given
 * order, or "None yet." when empty. Shared by the monitoring and user totals.
 */
export function CountCards({
  title,
  counts,
  renderLabel = (label) => label,
}: {
  title: string;
  counts: readonly (readonly [string, number])[] | Readonly<Record<string, number>>;
  renderLabel?: (label: string) => ReactNode;
}) {
  const entries = Array.isArray(counts) ? counts : Object.entries(counts);
  return (
    <>
      <h2>{title}</h2>
      {entries.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <ul className="cards" aria-label={title}>
          {entries.map(([label, count]) => (
            <li key={label} className="card">
              <span className="number">{count}</span>
              {renderLabel(label)}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
