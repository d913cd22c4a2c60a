import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { hasRole } from "../auth/roles";
import { useCurrentUser } from "../auth/session";
import { ErrorMessage } from "../components/ErrorMessage";
import { fieldErrorOf, SelectField, TextField } from "../components/Field";
import { PageHeading } from "../components/PageHeading";
import { Pagination } from "../components/Pagination";
import { EventItem } from "../features/monitoring/EventItem";
import { MonitoringNav } from "../features/monitoring/MonitoringNav";
import { EVENT_LEVELS, EVENT_TYPES, useCreateEvent, useEvents } from "../features/monitoring/hooks";
import { parseTagFilter, withTag } from "../features/monitoring/tagFilter";

const PAGE_SIZE = 25;
const FILTERS = ["type", "level", "source", "tags"] as const;

/** Monitoring events, newest first, filtered by type, level, source and tags (in the address). */
export default function MonitoringEvents() {
  const me = useCurrentUser();
  const [params, setParams] = useSearchParams();
  const eventType = EVENT_TYPES.find((t) => t === params.get("type"));
  const level = EVENT_LEVELS.find((l) => l === params.get("level"));
  const source = params.get("source") ?? "";
  const tags = params.get("tags") ?? "";
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const events = useEvents({
    event_type: eventType,
    level,
    source: source || undefined,
    tags: tags || undefined,
    limit: PAGE_SIZE,
    offset,
  });
  const [tagProblem, setTagProblem] = useState<string | null>(null);

  function apply(values: Partial<Record<(typeof FILTERS)[number] | "offset", string>>) {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(values)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    if (!("offset" in values)) next.delete("offset");
    setParams(next);
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const typedTags = String(form.get("tags") ?? "").trim();
    const parsed = parseTagFilter(typedTags);
    setTagProblem(parsed.ok ? null : parsed.problem);
    if (!parsed.ok) return;
    apply(Object.fromEntries(FILTERS.map((name) => [name, String(form.get(name) ?? "").trim()])));
  }

  const tagsError =
    tagProblem ?? fieldErrorOf(events.error, "tags") ?? fieldErrorOf(events.error, "query.tags");
  const sourceError =
    fieldErrorOf(events.error, "source") ?? fieldErrorOf(events.error, "query.source");
  return (
    <section>
      <PageHeading>Monitoring events</PageHeading>
      <MonitoringNav />
      <p className="muted">
        {hasRole(me.role, "moderator") ? "Everyone's events." : "The events you recorded."} Newest
        first; refreshes every 30 s.
      </p>
      <RecordEvent username={me.username} />
      {/* key: the fields show the address's filters again after back/forward. */}
      <form
        key={params.toString()}
        onSubmit={submit}
        noValidate
        aria-label="Filter events"
        className="filters"
      >
        <SelectField
          label="Type"
          name="type"
          defaultValue={eventType ?? ""}
          options={[{ value: "", label: "Any type" }, ...EVENT_TYPES]}
        />
        <SelectField
          label="Level"
          name="level"
          defaultValue={level ?? ""}
          options={[{ value: "", label: "Any level" }, ...EVENT_LEVELS]}
        />
        <TextField label="Source" name="source" defaultValue={source} error={sourceError} />
        <TextField
          label="Tags"
          name="tags"
          defaultValue={tags}
          placeholder="env:prod,team:search"
          hint="key:value pairs, separated by commas; all must match."
          error={tagsError}
        />
        <div className="actions">
          <button type="submit">Apply filters</button>
          <button
            type="button"
            className="secondary"
            onClick={() => setParams(new URLSearchParams())}
          >
            Clear
          </button>
        </div>
      </form>
      <ErrorMessage
        error={events.error}
        fieldsShown={["tags", "query.tags", "source", "query.source"]}
      />
      {events.data && events.data.items.length === 0 && <p>No events match.</p>}
      {events.data && events.data.items.length > 0 && (
        <>
          <p className="muted" aria-live="polite">
            {events.data.total} event{events.data.total === 1 ? "" : "s"}
          </p>
          <ul className="item-list" aria-label="Events">
            {events.data.items.map((event) => (
              <EventItem
                key={event.id}
                event={event}
                onTag={(k, v) => apply({ tags: withTag(tags, k, v) })}
              />
            ))}
          </ul>
          {events.data.total > PAGE_SIZE && (
            <Pagination
              label="Event pages"
              total={events.data.total}
              limit={PAGE_SIZE}
              offset={offset}
              onOffsetChange={(value) => apply({ offset: value ? String(value) : "" })}
            />
          )}
        </>
      )}
    </section>
  );
}

/** Record an event, e.g. to try the tag filter and alerts on your own data. */
function RecordEvent({ username }: { username: string }) {
  const create = useCreateEvent();
  const [tagProblem, setTagProblem] = useState<string | null>(null);
  const [recorded, setRecorded] = useState(false);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const tags = parseTagFilter(text("tags"));
    setTagProblem(tags.ok ? null : tags.problem);
    setRecorded(false);
    if (!tags.ok) return;
    create.mutate(
      {
        event_type: EVENT_TYPES.find((t) => t === text("event_type")) ?? "log",
        level: EVENT_LEVELS.find((l) => l === text("level")) ?? null,
        source: text("source"),
        message: text("message") || null,
        tags: tags.tags,
      },
      {
        onSuccess: () => {
          setRecorded(true);
          formElement.reset();
        },
      },
    );
  }
  const error = create.error;
  return (
    <details className="panel">
      <summary>Record an event</summary>
      <form onSubmit={submit} noValidate aria-label="Record an event">
        <ErrorMessage
          error={error}
          fieldsShown={["event_type", "level", "source", "message", "tags"]}
        />
        {recorded && (
          <p className="notice" role="status">
            Event recorded.
          </p>
        )}
        <div className="filters">
          <SelectField
            label="Event type"
            name="event_type"
            defaultValue="log"
            options={EVENT_TYPES}
          />
          <SelectField
            label="Event level"
            name="level"
            defaultValue="info"
            options={EVENT_LEVELS}
          />
        </div>
        <TextField
          label="Event source"
          name="source"
          defaultValue={`user:${username}`}
          hint="Yours (user:<username> or <username>-…) or a generic one without a dash."
          error={fieldErrorOf(error, "source")}
        />
        <TextField label="Message" name="message" error={fieldErrorOf(error, "message")} />
        <TextField
          label="Event tags"
          name="tags"
          placeholder="env:prod,team:search"
          error={tagProblem ?? fieldErrorOf(error, "tags")}
        />
        <button type="submit" disabled={create.isPending}>
          Record event
        </button>
      </form>
    </details>
  );
}
