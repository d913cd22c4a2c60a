import { hasRole } from "../auth/roles";
import { useCurrentUser } from "../auth/session";
import { SelectField, TextField } from "../components/Field";
import { FilterForm, FilterSelect } from "../components/Filters";
import { CreatePanel } from "../components/Form";
import { PageHeading } from "../components/PageHeading";
import { PagedList } from "../components/PagedList";
import { useAddressFilters } from "../components/useAddressFilters";
import { EventItem } from "../features/monitoring/EventItem";
import { MonitoringNav } from "../features/monitoring/MonitoringNav";
import { EVENT_LEVELS, EVENT_TYPES, useCreateEvent, useEvents } from "../features/monitoring/hooks";
import { TagFilterField } from "../features/monitoring/TagFilterField";
import { useAddressTagFilter, useTagFilter } from "../features/monitoring/useTagFilter";

/** Monitoring events, newest first, filtered by type, level, source and tags (in the address). */
export default function MonitoringEvents() {
  const me = useCurrentUser();
  const { params, page } = useAddressFilters();
  const eventType = EVENT_TYPES.find((t) => t === params.get("type"));
  const level = EVENT_LEVELS.find((l) => l === params.get("level"));
  const source = params.get("source") ?? "";
  const tags = useAddressTagFilter("tags");
  const events = useEvents({
    event_type: eventType,
    level,
    source: source || undefined,
    tags: tags.text || undefined,
    ...page,
  });

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
        accepts={tags.accepts}
        error={events.error}
      >
        <FilterSelect label="Type" name="type" any="Any type" options={EVENT_TYPES} inFilterForm />
        <FilterSelect
          label="Level"
          name="level"
          any="Any level"
          options={EVENT_LEVELS}
          inFilterForm
        />
        <TextField label="Source" name="source" defaultValue={source} />
        <TagFilterField label="Tags" placeholder="env:prod,team:search" filter={tags} />
      </FilterForm>
      <PagedList label="Events" page={events.data} empty="No events match." countNoun="event">
        {(event) => <EventItem key={event.id} event={event} onTag={tags.add} />}
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
