import { hasRole } from "../auth/roles";
import { useCurrentUser } from "../auth/session";
import { SelectField, TextField } from "../components/Field";
import { FilterForm } from "../components/Filters";
import { CreatePanel } from "../components/Form";
import { PageHeading } from "../components/PageHeading";
import { PagedList } from "../components/PagedList";
import { useAddressFilters } from "../components/useAddressFilters";
import { EventItem } from "../features/monitoring/EventItem";
import { MonitoringNav } from "../features/monitoring/MonitoringNav";
import { EVENT_LEVELS, EVENT_TYPES, useCreateEvent, useEvents } from "../features/monitoring/hooks";
import { withTag } from "../features/monitoring/tagFilter";
import { useTagFilter } from "../features/monitoring/useTagFilter";

/** Monitoring events, newest first, filtered by type, level, source and tags (in the address). */
export default function MonitoringEvents() {
  const me = useCurrentUser();
  const { params, page, setFilters } = useAddressFilters();
  const eventType = EVENT_TYPES.find((t) => t === params.get("type"));
  const level = EVENT_LEVELS.find((l) => l === params.get("level"));
  const source = params.get("source") ?? "";
  const tags = params.get("tags") ?? "";
  const events = useEvents({
    event_type: eventType,
    level,
    source: source || undefined,
    tags: tags || undefined,
    ...page,
  });
  const tagFilter = useTagFilter();

  return (
    <section>
      <PageHeading>Monitoring events</PageHeading>
      <MonitoringNav />
      <p className="muted">
        {hasRole(me.role, "moderator") ? "Everyone's events." : "The events you recorded."} Newest
        first; refreshes every 30 s.
      </p>
      <RecordEvent username={me.username} />
      <FilterForm
        label="Filter events"
        names={["type", "level", "source", "tags"]}
        accepts={(values) => tagFilter.parse(values.tags) !== null}
        error={events.error}
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
        <TextField label="Source" name="source" defaultValue={source} />
        <TextField
          label="Tags"
          name="tags"
          defaultValue={tags}
          placeholder="env:prod,team:search"
          hint="key:value pairs, separated by commas; all must match."
          error={tagFilter.problem}
        />
      </FilterForm>
      <PagedList label="Events" page={events.data} empty="No events match." countNoun="event">
        {(event) => (
          <EventItem
            key={event.id}
            event={event}
            onTag={(k, v) => setFilters({ tags: withTag(tags, k, v) })}
          />
        )}
      </PagedList>
    </section>
  );
}

/** Record an event, e.g. to try the tag filter and alerts on your own data. */
function RecordEvent({ username }: { username: string }) {
  const create = useCreateEvent();
  const tagFilter = useTagFilter();
  function bodyOf(form: FormData) {
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const tags = tagFilter.parse(text("tags"));
    if (!tags) return null;
    return {
      event_type: EVENT_TYPES.find((t) => t === text("event_type")) ?? "log",
      level: EVENT_LEVELS.find((l) => l === text("level")) ?? null,
      source: text("source"),
      message: text("message") || null,
      tags,
    };
  }
  return (
    <CreatePanel
      label="Record an event"
      mutation={create}
      bodyOf={bodyOf}
      saying={() => "Event recorded."}
      fieldsShown={["event_type", "level", "source", "message", "tags"]}
      submitLabel="Record event"
    >
      <div className="filters">
        <SelectField
          label="Event type"
          name="event_type"
          defaultValue="log"
          options={EVENT_TYPES}
        />
        <SelectField label="Event level" name="level" defaultValue="info" options={EVENT_LEVELS} />
      </div>
      <TextField
        label="Event source"
        name="source"
        defaultValue={`user:${username}`}
        hint="Yours (user:<username> or <username>-…) or a generic one without a dash."
      />
      <TextField label="Message" name="message" />
      <TextField
        label="Event tags"
        name="tags"
        placeholder="env:prod,team:search"
        error={tagFilter.problem}
      />
    </CreatePanel>
  );
}
