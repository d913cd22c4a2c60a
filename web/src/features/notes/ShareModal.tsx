import { useEffect, useId, useRef, useState } from "react";
import { ErrorMessage } from "../../components/ErrorMessage";
import { SelectField, TextField } from "../../components/Field";
import { Form } from "../../components/Form";
import {
  SHARE_PERMISSIONS,
  useRevokeShare,
  useShareNote,
  useShares,
  type Note,
  type SharePermission,
} from "./hooks";

const PERMISSION_LABEL: Record<SharePermission, string> = {
  read: "Can read",
  edit: "Can read and edit",
};
const permissionOptions = SHARE_PERMISSIONS.map((value) => ({
  value,
  label: PERMISSION_LABEL[value],
}));

/**
 * Share a note (the owner only): with a user by username, to read or to edit; the list of
 * who has it, each permission changeable and revocable. A native modal `<dialog>`: it
 * keeps the keyboard inside, closes on Escape and gives the focus back to the button that
 * opened it.
 */
export function ShareModal({
  note,
  open,
  onClose,
}: {
  note: Note;
  open: boolean;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const headingId = useId();
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      if (typeof element.showModal === "function") element.showModal();
      else element.setAttribute("open", "");
    }
    if (!open && element.open) {
      if (typeof element.close === "function") element.close();
      else element.removeAttribute("open");
    }
  }, [open]);

  return (
    <dialog ref={dialog} aria-labelledby={headingId} onClose={onClose} className="modal">
      {open && (
        <>
          <h2 id={headingId}>Share “{note.title}”</h2>
          <ShareForm noteId={note.id} />
          <CurrentShares noteId={note.id} />
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </>
      )}
    </dialog>
  );
}

function ShareForm({ noteId }: { noteId: string }) {
  const share = useShareNote(noteId);
  const [done, setDone] = useState<string | null>(null);
  function submit(form: FormData, formElement: HTMLFormElement) {
    const username = String(form.get("username") ?? "").trim();
    const permission = form.get("permission") === "edit" ? "edit" : "read";
    setDone(null);
    share.mutate(
      { username, permission },
      {
        onSuccess: () => {
          setDone(
            `Shared with ${username} (${PERMISSION_LABEL[permission].toLowerCase()}). They will be notified.`,
          );
          formElement.reset();
        },
      },
    );
  }
  const notFound = share.error && "status" in share.error && share.error.status === 404;
  return (
    <Form
      label="Share with a user"
      onSubmit={submit}
      error={notFound ? null : share.error}
      fieldsShown={["username", "permission"]}
      notice={done}
    >
      <TextField
        label="Username"
        name="username"
        required
        autoComplete="off"
        maxLength={50}
        error={notFound ? "No active user has this username." : undefined}
      />
      <SelectField
        label="Permission"
        name="permission"
        defaultValue="read"
        options={permissionOptions}
      />
      <button type="submit" disabled={share.isPending}>
        Share
      </button>
    </Form>
  );
}

function CurrentShares({ noteId }: { noteId: string }) {
  const shares = useShares(noteId);
  const change = useShareNote(noteId);
  const revoke = useRevokeShare(noteId);
  if (shares.data === undefined) return <p className="muted">Loading who has this note…</p>;
  return (
    <section aria-label="Shared with">
      <h3>Shared with</h3>
      <ErrorMessage error={change.error ?? revoke.error} />
      {shares.data.length === 0 ? (
        <p>Nobody yet.</p>
      ) : (
        <ul className="item-list">
          {shares.data.map((entry) => {
            // The list names each recipient; the id is the fallback of an older server.
            const who = entry.shared_with_username ?? entry.shared_with;
            return (
              <li key={entry.id} className="item share-row">
                <span>
                  <strong>{who}</strong>
                </span>
                <SelectField
                  label={`Permission of ${who}`}
                  name={`permission-${entry.shared_with}`}
                  value={entry.permission}
                  disabled={change.isPending}
                  options={permissionOptions}
                  onChange={(event) =>
                    change.mutate({
                      user_id: entry.shared_with,
                      permission: event.target.value === "edit" ? "edit" : "read",
                    })
                  }
                />
                <button
                  type="button"
                  className="danger"
                  disabled={revoke.isPending}
                  onClick={() => revoke.mutate(entry.shared_with)}
                >
                  Stop sharing<span className="visually-hidden"> with {who}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
