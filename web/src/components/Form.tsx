import { useState, type FormEvent, type ReactNode } from "react";
import { ErrorMessage } from "./ErrorMessage";
import { fieldErrorOf, FieldErrorsContext } from "./Field";

export interface FormProps {
  /** The form's accessible name (browser tests and screen readers find it by it). */
  label?: string;
  /** Called with the form's fields when it is submitted (the browser's own submit is stopped). */
  onSubmit: (fields: FormData, form: HTMLFormElement) => void;
  /** The mutation's error: its message on top, each field problem under its field. */
  error: unknown;
  /** Field names the form renders as fields; problems with any other field are listed on top. */
  fieldsShown?: readonly string[];
  /** What the last submit did ("Saved."), announced to screen readers. */
  notice?: ReactNode;
  children: ReactNode;
}

/**
 * A form as the app writes them: no browser validation (the server's rules and messages
 * are the ones that count), the error on top, a notice after success, and the fields —
 * a `TextField` & co. inside shows the server's problem for its own `name`, unless it is
 * given an `error` of its own.
 */
export function Form({ label, onSubmit, error, fieldsShown, notice, children }: FormProps) {
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onSubmit(new FormData(event.currentTarget), event.currentTarget);
  }
  return (
    <form onSubmit={submit} noValidate aria-label={label}>
      <ErrorMessage error={error} fieldsShown={fieldsShown} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <FieldErrorsContext.Provider value={(name) => fieldErrorOf(error, name)}>
        {children}
      </FieldErrorsContext.Provider>
    </form>
  );
}

/** A `Form` folded away under its label until opened (adding or recording something). */
export function PanelForm({ label, ...form }: FormProps & { label: string }) {
  return (
    <details className="panel">
      <summary>{label}</summary>
      <Form label={label} {...form} />
    </details>
  );
}

/** What `CreatePanel` needs of a mutation (a TanStack Query `useMutation` result). */
interface CreateMutation<Body, Created> {
  mutate: (body: Body, options: { onSuccess: (created: Created) => void }) => void;
  isPending: boolean;
  error: unknown;
}

/**
 * A folded form that adds one thing (a user, an alert, a sample…) and then is ready for
 * the next: `bodyOf` reads the request's body from the form (or returns null when a check
 * in the page failed; the page shows that problem at its field), `saying` tells what was
 * added, and the form is emptied.
 */
export function CreatePanel<Body, Created>({
  mutation,
  bodyOf,
  saying,
  submitLabel,
  children,
  ...form
}: Omit<FormProps, "onSubmit" | "error" | "notice"> & {
  label: string;
  mutation: CreateMutation<Body, Created>;
  bodyOf: (form: FormData) => Body | null;
  saying: (created: Created) => ReactNode;
  submitLabel: string;
}) {
  const [notice, setNotice] = useState<ReactNode>(null);
  function submit(fields: FormData, formElement: HTMLFormElement) {
    const body = bodyOf(fields);
    setNotice(null);
    if (body === null) return;
    mutation.mutate(body, {
      onSuccess: (created) => {
        setNotice(saying(created));
        formElement.reset();
      },
    });
  }
  return (
    <PanelForm onSubmit={submit} error={mutation.error} notice={notice} {...form}>
      {children}
      <button type="submit" disabled={mutation.isPending}>
        {submitLabel}
      </button>
    </PanelForm>
  );
}

/**
 * A form that edits one thing and sends only what changed: `changesOf` compares the form
 * with the thing (null: nothing changed, which is said instead of asking the server);
 * `onDone` once the change is saved.
 */
export function ChangesForm<Body>({
  mutation,
  changesOf,
  onDone,
  ...form
}: Omit<FormProps, "onSubmit" | "error" | "notice"> & {
  mutation: Omit<CreateMutation<Body, unknown>, "isPending">;
  changesOf: (form: FormData) => Body | null;
  onDone: () => void;
}) {
  const [unchanged, setUnchanged] = useState(false);
  function submit(fields: FormData) {
    const body = changesOf(fields);
    setUnchanged(body === null);
    if (body !== null) mutation.mutate(body, { onSuccess: onDone });
  }
  return (
    <Form
      onSubmit={submit}
      error={mutation.error}
      notice={unchanged && "Nothing changed."}
      {...form}
    />
  );
}
