import type { Note } from "./hooks";

const ACCESS_LABEL: Record<string, string> = {
  owner: "yours",
  edit: "shared with you: can edit",
  read: "shared with you: read only",
  public: "public: read only",
};

/** Whose a note is and what the caller may do with it, in words. */
export function AccessBadge({ access, isPublic }: { access: string; isPublic: boolean }) {
  return (
    <span className="tag">
      {ACCESS_LABEL[access] ?? access}
      {isPublic && access === "owner" ? ", public" : ""}
    </span>
  );
}

/** A note as read: its text (line breaks kept) and when it changed. */
export function NoteViewer({ note }: { note: Note }) {
  return (
    <article aria-label="Note">
      <p>
        <AccessBadge access={note.access} isPublic={note.is_public} />
      </p>
      {note.content.trim() === "" ? (
        <p className="muted">This note has no text.</p>
      ) : (
        <div className="note-content">{note.content}</div>
      )}
      <p className="muted small">
        Created <time dateTime={note.created_at}>{new Date(note.created_at).toLocaleString()}</time>
        {" · "}updated <time dateTime={note.updated_at}>{new Date(note.updated_at).toLocaleString()}</time>
      </p>
    </article>
  );
}
