/** A list's filters, kept in the address (see `useAddressFilters`). */
import type { FormEvent, ReactNode } from "react";
import { ErrorMessage } from "./ErrorMessage";
import { fieldErrorOf, FieldErrorsContext, SelectField } from "./Field";
import { useAddressFilters } from "./useAddressFilters";

/** A filter's problem from a list's failed read: the server names it `name` or `query.name`. */
function filterErrorOf(error: unknown, name: string): string | undefined {
  return fieldErrorOf(error, name) ?? fieldErrorOf(error, `query.${name}`);
}

/**
 * Filters applied together with one button (for text fields, where every key press must
 * not ask the server): "Apply filters" puts the trimmed values of the fields `names` in
 * the address (if `accepts` them: a check of its own may refuse, and show why at its
 * field), "Clear" removes every filter. `error` is the list's failed read: each field
 * shows its own problem, the rest is said under the form.
 */
export function FilterForm<Name extends string>({
  label,
  names,
  accepts = () => true,
  error,
  children,
}: {
  label: string;
  names: readonly Name[];
  accepts?: (values: Record<Name, string>) => boolean;
  error: unknown;
  children: ReactNode;
}) {
  const { params, setFilters, clearFilters } = useAddressFilters();
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const values = Object.fromEntries(
      names.map((name) => [name, String(form.get(name) ?? "").trim()]),
    ) as Record<Name, string>;
    if (accepts(values)) setFilters(values);
  }
  return (
    <>
      {/* key: its fields show the address's filters again after back or forward. */}
      <form
        key={params.toString()}
        onSubmit={submit}
        noValidate
        aria-label={label}
        className="filters"
      >
        <FieldErrorsContext.Provider value={(name) => filterErrorOf(error, name)}>
          {children}
        </FieldErrorsContext.Provider>
        <div className="actions">
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={clearFilters}>
            Clear
          </button>
        </div>
      </form>
      <ErrorMessage error={error} fieldsShown={names.flatMap((name) => [name, `query.${name}`])} />
    </>
  );
}

/**
 * A select that filters the list at once: its `name` is the address parameter it sets,
 * and its first option, `any`, removes it. (The page reads the parameter, checked, from
 * the address, and shows "any" for a value it does not know.) Among a `FilterForm`'s
 * fields (`inFilterForm`), it is applied with them instead.
 */
export function FilterSelect({
  label,
  name,
  any,
  options,
  inFilterForm = false,
}: {
  label: string;
  name: string;
  any: string;
  options: readonly (string | { value: string; label: string })[];
  inFilterForm?: boolean;
}) {
  const { params, setFilter } = useAddressFilters();
  const current = params.get(name) ?? "";
  const known = options.some(
    (option) => (typeof option === "string" ? option : option.value) === current,
  );
  const chosen = known ? current : "";
  return (
    <SelectField
      label={label}
      name={name}
      {...(inFilterForm
        ? { defaultValue: chosen }
        : { value: chosen, onChange: (event) => setFilter(name, event.target.value) })}
      options={[{ value: "", label: any }, ...options]}
    />
  );
}
