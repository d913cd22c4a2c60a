import { FieldShell } from "../../components/Field";
import type { FieldValue, FormValues, PayloadField } from "./payloadForm";

/** The inputs for one payload shape; `errors` are shown next to their fields. */
export function PayloadFields({
  fields,
  values,
  errors,
  onChange,
}: {
  fields: readonly PayloadField[];
  values: FormValues;
  errors: Readonly<Record<string, string | undefined>>;
  onChange: (name: string, value: FieldValue) => void;
}) {
  return (
    <>
      {fields.map((field) => (
        <PayloadInput
          key={field.name}
          field={field}
          value={values[field.name]}
          error={errors[field.name]}
          onChange={(value) => onChange(field.name, value)}
        />
      ))}
    </>
  );
}

function hintFor(field: PayloadField): string | undefined {
  const parts = [field.description];
  if (field.kind === "list") parts.push("Separate items with commas.");
  if (field.kind === "json") parts.push("JSON.");
  if (field.minimum !== undefined || field.maximum !== undefined) {
    parts.push(`From ${field.minimum ?? "−∞"} to ${field.maximum ?? "∞"}.`);
  }
  return parts.filter(Boolean).join(" ") || undefined;
}

function PayloadInput({
  field,
  value,
  error,
  onChange,
}: {
  field: PayloadField;
  value: FieldValue | undefined;
  error: string | undefined;
  onChange: (value: FieldValue) => void;
}) {
  const label = field.required ? `${field.label} (required)` : field.label;
  const hint = hintFor(field);

  if (field.kind === "boolean") {
    return (
      <div className={error ? "field field-invalid" : "field"}>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={value === true}
            onChange={(e) => onChange(e.target.checked)}
          />
          {field.label}
        </label>
        {hint && <p className="field-hint">{hint}</p>}
        {error && <p className="field-error">{error}</p>}
      </div>
    );
  }

  if (field.kind === "multiselect") {
    const chosen = Array.isArray(value) ? value : [];
    return (
      <fieldset className={error ? "field-invalid" : undefined}>
        <legend className="label">{label}</legend>
        {field.options?.map((option) => (
          <label key={option} className="checkbox">
            <input
              type="checkbox"
              checked={chosen.includes(option)}
              onChange={(e) =>
                onChange(
                  e.target.checked ? [...chosen, option] : chosen.filter((o) => o !== option),
                )
              }
            />
            {option}
          </label>
        ))}
        {hint && <p className="field-hint">{hint}</p>}
        {error && <p className="field-error">{error}</p>}
      </fieldset>
    );
  }

  const text = typeof value === "string" ? value : "";
  return (
    <FieldShell label={label} name={field.name} hint={hint} error={error}>
      {(control) => {
        const common = { ...control, "aria-required": field.required || undefined };
        if (field.kind === "select") {
          return (
            <select {...common} value={text} onChange={(e) => onChange(e.target.value)}>
              {!field.required || text === "" ? <option value="">—</option> : null}
              {field.options?.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          );
        }
        if (field.kind === "json") {
          return <textarea {...common} value={text} onChange={(e) => onChange(e.target.value)} />;
        }
        return (
          <input
            {...common}
            type={field.kind === "datetime" ? "datetime-local" : "text"}
            inputMode={field.kind === "number" || field.kind === "integer" ? "decimal" : undefined}
            value={text}
            onChange={(e) => onChange(e.target.value)}
          />
        );
      }}
    </FieldShell>
  );
}
