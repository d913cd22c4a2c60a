import type { FormEvent } from "react";
import { ErrorMessage } from "../../components/ErrorMessage";
import { CheckboxField, fieldErrorOf, TextAreaField, TextField } from "../../components/Field";

export interface NoteDraft {
  title: string;
  content: string;
  is_public: boolean;
}

/**
 * The form for a new note or a change: title, text and — for the owner — public or not.
 * Field problems from the server appear next to their fields.
 */
export function NoteEditor({
  initial,
  canPublish,
  submitLabel,
  pending,
  error,
  onSubmit,
  onCancel,
}: {
  initial: NoteDraft;
  canPublish: boolean;
  submitLabel: string;
  pending: boolean;
  error: unknown;
  onSubmit: (draft: NoteDraft) => void;
  onCancel?: () => void;
}) {
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    onSubmit({
      title: String(form.get("title") ?? ""),
      content: String(form.get("content") ?? ""),
      is_public: canPublish ? form.get("is_public") === "on" : initial.is_public,
    });
  }
  return (
    <form onSubmit={submit} noValidate aria-label={submitLabel}>
      <ErrorMessage error={error} fieldsShown={["title", "content", "is_public"]} />
      <TextField
        label="Title"
        name="title"
        defaultValue={initial.title}
        required
        maxLength={200}
        error={fieldErrorOf(error, "title")}
      />
      <TextAreaField
        label="Text"
        name="content"
        defaultValue={initial.content}
        rows={10}
        error={fieldErrorOf(error, "content")}
      />
      {canPublish && (
        <CheckboxField
          label="Public: anyone signed in may read it"
          name="is_public"
          defaultChecked={initial.is_public}
          error={fieldErrorOf(error, "is_public")}
        />
      )}
      <div className="actions">
        <button type="submit" disabled={pending}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
