import { CheckboxField, TextAreaField, TextField } from "../../components/Field";
import { Form } from "../../components/Form";

export interface NoteDraft {
  title: string;
  content: string;
  is_public: boolean;
}

/**
 * The form for a new note or a change: title, text and — for the owner — public or not.
 * Field problems from the server appear next to their fields (`Form`).
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
  function submit(form: FormData) {
    onSubmit({
      title: String(form.get("title") ?? ""),
      content: String(form.get("content") ?? ""),
      is_public: canPublish ? form.get("is_public") === "on" : initial.is_public,
    });
  }
  return (
    <Form
      label={submitLabel}
      onSubmit={submit}
      error={error}
      fieldsShown={["title", "content", "is_public"]}
    >
      <TextField label="Title" name="title" defaultValue={initial.title} required maxLength={200} />
      <TextAreaField label="Text" name="content" defaultValue={initial.content} rows={10} />
      {canPublish && (
        <CheckboxField
          label="Public: anyone signed in may read it"
          name="is_public"
          defaultChecked={initial.is_public}
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
    </Form>
  );
}
