import { useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router";
import { PAGE_SIZE } from "../../api/queries";
import { CheckboxField } from "../../components/Field";
import { plural, when } from "../../components/format";
import { Pagination } from "../../components/Pagination";
import { useDebounced } from "../../components/useDebounced";
import { AccessBadge } from "./NoteViewer";
import { useNotes } from "./hooks";
import { SEARCH_DEBOUNCE_MS, visibleNotes } from "./search";

export interface NotesListState {
  q: string;
  includePublic: boolean;
  offset: number;
}

/**
 * My notes, notes shared with me and (optionally) public ones, searchable and paged. The
 * search box answers every key (the notes on screen are narrowed at once) and asks the
 * server once typing pauses; `state` lives in the page's address.
 */
export function NotesList({
  state,
  onChange,
}: {
  state: NotesListState;
  onChange: (next: NotesListState) => void;
}) {
  const [typed, setTyped] = useState(state.q);
  const searched = useDebounced(typed, SEARCH_DEBOUNCE_MS).trim();
  const latest = useRef({ state, onChange });
  latest.current = { state, onChange };
  // Only a pause in typing asks again (not a change of the address, e.g. going back).
  useEffect(() => {
    const { state: now, onChange: change } = latest.current;
    if (searched !== now.q) change({ ...now, q: searched, offset: 0 });
  }, [searched]);

  const notes = useNotes({
    q: state.q || undefined,
    include_public: state.includePublic,
    limit: PAGE_SIZE,
    offset: state.offset,
  });
  const items = notes.data?.items ?? [];
  const shown = visibleNotes(items, typed, notes.isPlaceholderData ? null : state.q);
  const searchId = useId();

  return (
    <>
      <div className="filters" role="search" aria-label="Find notes">
        <div className="field">
          <label htmlFor={searchId}>Search notes</label>
          <input
            id={searchId}
            type="search"
            name="q"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
            placeholder="Words in the title or text"
          />
        </div>
        <CheckboxField
          label="Include public notes"
          name="include_public"
          checked={state.includePublic}
          onChange={(event) =>
            onChange({ ...state, includePublic: event.target.checked, offset: 0 })
          }
        />
      </div>
      <p className="muted" aria-live="polite">
        {notes.data === undefined
          ? "Loading notes…"
          : shown.length === 0
            ? typed.trim()
              ? "No notes match this search."
              : "No notes yet."
            : `${plural(notes.data.total, "note")}${notes.isFetching ? " (updating…)" : ""}`}
      </p>
      {shown.length > 0 && (
        <ul className="item-list" aria-label="Notes">
          {shown.map((note) => (
            <li key={note.id} className="item">
              <Link to={`/notes/${note.id}`} className="item-title">
                {note.title}
              </Link>{" "}
              <AccessBadge access={note.access} isPublic={note.is_public} />
              <p className="excerpt">{excerpt(note.content)}</p>
              <p className="muted small">Updated {when(note.updated_at)}</p>
            </li>
          ))}
        </ul>
      )}
      {notes.data && (
        <Pagination
          label="Pages of notes"
          total={notes.data.total}
          limit={PAGE_SIZE}
          offset={state.offset}
          onOffsetChange={(offset) => onChange({ ...state, offset })}
        />
      )}
    </>
  );
}

/** The first line or so of a note, for the list. */
export function excerpt(content: string, length = 140): string {
  const text = content.replace(/\s+/g, " ").trim();
  return text.length <= length ? text : `${text.slice(0, length - 1).trimEnd()}…`;
}
