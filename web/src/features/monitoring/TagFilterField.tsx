import { TextField } from "../../components/Field";
import type { AddressTagFilter } from "./useTagFilter";

/** The field of a `FilterForm` for a tag filter in the address, with its typo if any. */
export function TagFilterField({
  label,
  placeholder,
  filter,
}: {
  label: string;
  /** An example filter, e.g. "env:prod,team:search". */
  placeholder: string;
  filter: AddressTagFilter;
}) {
  return (
    <TextField
      label={label}
      name={filter.name}
      defaultValue={filter.text}
      placeholder={placeholder}
      hint="key:value pairs, separated by commas; all must match."
      error={filter.problem}
    />
  );
}
