import { Link, useSearchParams } from "react-router";
import { PageHeading } from "../components/PageHeading";
import { NotesList, type NotesListState } from "../features/notes/NotesList";

/** My notes, the ones shared with me and public ones; search and page in the address. */
export default function Notes() {
  const [params, setParams] = useSearchParams();
  const state: NotesListState = {
    q: params.get("q") ?? "",
    includePublic: params.get("public") === "1",
    offset: Math.max(0, Number(params.get("offset")) || 0),
  };

  function onChange(next: NotesListState) {
    const query = new URLSearchParams();
    if (next.q) query.set("q", next.q);
    if (next.includePublic) query.set("public", "1");
    if (next.offset) query.set("offset", String(next.offset));
    // Typing a search replaces the entry; paging and the public switch add one.
    setParams(query, { replace: next.q !== state.q });
  }

  return (
    <section>
      <PageHeading>Notes</PageHeading>
      <p className="actions">
        <Link to="/notes/new">New note</Link>
      </p>
      <NotesList state={state} onChange={onChange} />
    </section>
  );
}
