import { when } from "../../components/format";
import type { MonitoringEvent } from "./hooks";
import { Pill } from "./MonitoringNav";

/** One event; its tags are buttons that add themselves to the filter. */
export function EventItem({
  event,
  onTag,
}: {
  event: MonitoringEvent;
  onTag?: (key: string, value: string) => void;
}) {
  const tags = Object.entries(event.tags).map(([key, value]) => [key, String(value)] as const);
  return (
    <li className="item">
      <p className="item-title">
        {event.level && <Pill value={event.level} />}{" "}
        <span className="tag">{event.event_type}</span> <code>{event.source}</code>
      </p>
      {event.message && <p>{event.message}</p>}
      {tags.length > 0 && (
        <p className="actions small" aria-label="Tags">
          {tags.map(([key, value]) =>
            onTag && !value.includes(",") ? (
              <button
                key={key}
                type="button"
                className="chip"
                title="Filter by this tag"
                aria-label={`Filter by tag ${key}:${value}`}
                onClick={() => onTag(key, value)}
              >
                {key}:{value}
              </button>
            ) : (
              <span key={key} className="tag">
                {key}:{value}
              </span>
            ),
          )}
        </p>
      )}
      <p className="muted small">{when(event.recorded_at)}</p>
    </li>
  );
}
