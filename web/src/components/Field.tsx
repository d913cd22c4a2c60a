import {
  createContext,
  useContext,
  useId,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from "react";
import { isApiError } from "../api/errors";

/** The message for `name` from a failed mutation's ApiError, if any. */
export function fieldErrorOf(error: unknown, name: string): string | undefined {
  return isApiError(error) ? error.fieldError(name) : undefined;
}

/**
 * How the form around a field finds the server's message for a field name (`Form`,
 * `FilterForm`); outside a form there is none.
 */
export const FieldErrorsContext = createContext<(name: string) => string | undefined>(
  () => undefined,
);

/** The problem a field shows: the one it is given, else the form's for its `name`. */
function useFieldError(name: string, given: string | undefined): string | undefined {
  const errorFor = useContext(FieldErrorsContext);
  return given ?? errorFor(name);
}

/** What every labelled field takes besides the attributes of its input, select or textarea. */
interface LabelledProps {
  label: string;
  name: string;
  hint?: ReactNode;
  /** Shown under the field; by default the form's error for `name`. */
  error?: string | undefined;
}

/** The attributes that tie an input to its label, hint and error. */
interface ControlProps {
  id: string;
  name: string;
  "aria-describedby": string | undefined;
  "aria-invalid": true | undefined;
}

interface FieldShellProps extends LabelledProps {
  children: (control: ControlProps) => ReactNode;
}

/** Label, input, hint and error, wired together for assistive technology. */
export function FieldShell({ label, name, hint, error: given, children }: FieldShellProps) {
  const id = useId();
  const error = useFieldError(name, given);
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className={error ? "field field-invalid" : "field"}>
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        name,
        "aria-describedby": describedBy,
        "aria-invalid": error ? true : undefined,
      })}
      {hint && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}

export type TextFieldProps = InputHTMLAttributes<HTMLInputElement> & LabelledProps;

export function TextField({ label, name, hint, error, ...input }: TextFieldProps) {
  return (
    <FieldShell label={label} name={name} hint={hint} error={error}>
      {(control) => <input {...control} {...input} />}
    </FieldShell>
  );
}

type SelectFieldProps = SelectHTMLAttributes<HTMLSelectElement> &
  LabelledProps & {
    options: readonly (string | { value: string; label: string })[];
  };

export function SelectField({ label, name, hint, error, options, ...select }: SelectFieldProps) {
  return (
    <FieldShell label={label} name={name} hint={hint} error={error}>
      {(control) => (
        <select {...control} {...select}>
          {options.map((option) => {
            const { value, label: text } =
              typeof option === "string" ? { value: option, label: option } : option;
            return (
              <option key={value} value={value}>
                {text}
              </option>
            );
          })}
        </select>
      )}
    </FieldShell>
  );
}

type TextAreaFieldProps = TextareaHTMLAttributes<HTMLTextAreaElement> & LabelledProps;

export function TextAreaField({ label, name, hint, error, ...textarea }: TextAreaFieldProps) {
  return (
    <FieldShell label={label} name={name} hint={hint} error={error}>
      {(control) => <textarea {...control} {...textarea} />}
    </FieldShell>
  );
}

/** The server's password rule, said where a new password is typed. */
export const PASSWORD_RULE =
  "8–128 characters with at least three of: lowercase, uppercase, digit, other.";

/**
 * A password input, required: a new one (the browser may suggest one; the rule as hint)
 * or the current one (the browser may fill it in).
 */
export function PasswordField({
  isNew = false,
  ...field
}: Omit<TextFieldProps, "type" | "autoComplete"> & { isNew?: boolean }) {
  return (
    <TextField
      type="password"
      autoComplete={isNew ? "new-password" : "current-password"}
      required
      hint={isNew ? PASSWORD_RULE : undefined}
      {...field}
    />
  );
}

/** A checkbox with its label beside it, and an error under it. */
export function CheckboxField({
  label,
  error: given,
  ...input
}: InputHTMLAttributes<HTMLInputElement> & Omit<LabelledProps, "hint">) {
  const id = useId();
  const error = useFieldError(input.name, given);
  return (
    <div className={error ? "field field-invalid" : "field"}>
      <label className="checkbox" htmlFor={id}>
        <input
          id={id}
          type="checkbox"
          aria-describedby={error ? `${id}-error` : undefined}
          aria-invalid={error ? true : undefined}
          {...input}
        />
        {label}
      </label>
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
