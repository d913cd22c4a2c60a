import { useState } from "react";
import { useNavigate, useParams } from "react-router";
import { BackLink } from "../components/BackLink";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { PageHeading } from "../components/PageHeading";
import { NoteEditor, type NoteDraft } from "../features/notes/NoteEditor";
import { NoteViewer } from "../features/notes/NoteViewer";
import { ShareModal } from "../features/notes/ShareModal";
import {
  notePermissions,
  useDeleteNote,
  useNote,
  useUpdateNote,
  type Note,
} from "../features/notes/hooks";

/**
 * One note (a deep link: `/notes/<id>`). Saving a change shows it at once (optimistic);
 * if the server refuses it, the note returns to what it was and the editor reopens with
 * what was typed and the problems next to their fields.
 */
export default function NoteDetail() {
  const { noteId = "" } = useParams();
  const { data: note } = useNote(noteId);
  if (!note) return <Loading />;
  return <NotePage note={note} />;
}

function NotePage({ note }: { note: Note }) {
  const navigate = useNavigate();
  const may = notePermissions(note.access);
  const update = useUpdateNote(note.id);
  const remove = useDeleteNote(note.id);
  /** The text in the editor; null while reading. */
  const [draft, setDraft] = useState<NoteDraft | null>(null);
  const [sharing, setSharing] = useState(false);

  function save(changes: NoteDraft) {
    setDraft(null);
    const body = may.publish ? changes : { title: changes.title, content: changes.content };
    update.mutate(body, { onError: () => setDraft(changes) });
  }

  function deleteNote() {
    if (!window.confirm(`Delete “${note.title}” for good?`)) return;
    remove.mutate(undefined, { onSuccess: () => navigate("/notes", { replace: true }) });
  }

  return (
    <section>
      <BackLink to="/notes">All notes</BackLink>
      <PageHeading title={`Note: ${note.title}`}>{note.title}</PageHeading>
      {update.isPending && (
        <p className="muted" role="status">
          Saving…
        </p>
      )}
      {draft ? (
        <NoteEditor
          initial={draft}
          canPublish={may.publish}
          submitLabel="Save note"
          pending={update.isPending}
          error={update.error}
          onSubmit={save}
          onCancel={() => {
            update.reset();
            setDraft(null);
          }}
        />
      ) : (
        <>
          <div className="actions">
            {may.edit && (
              <button
                type="button"
                onClick={() =>
                  setDraft({ title: note.title, content: note.content, is_public: note.is_public })
                }
              >
                Edit note
              </button>
            )}
            {may.share && (
              <button type="button" className="secondary" onClick={() => setSharing(true)}>
                Share note
              </button>
            )}
            {may.delete && (
              <button
                type="button"
                className="danger"
                disabled={remove.isPending}
                onClick={deleteNote}
              >
                Delete note
              </button>
            )}
          </div>
          <ErrorMessage error={remove.error} />
          <NoteViewer note={note} />
        </>
      )}
      {may.share && <ShareModal note={note} open={sharing} onClose={() => setSharing(false)} />}
    </section>
  );
}
