import { useState } from "react";
import { useAddressFilters } from "../../components/useAddressFilters";
import { parseTagFilter, withTag } from "./tagFilter";

/**
 * A typed tag filter (`key:value,…`) checked before the server is asked: `parse` gives
 * the tags, or null after setting `problem` for the field to show.
 */
export function useTagFilter() {
  const [problem, setProblem] = useState<string>();
  function parse(text: string): Record<string, string> | null {
    const parsed = parseTagFilter(text);
    setProblem(parsed.ok ? undefined : parsed.problem);
    return parsed.ok ? parsed.tags : null;
  }
  return { problem, parse };
}

/**
 * A tag filter kept in the address under `name` (the events' `tags`, the metrics' `labels`):
 * its `text`, `accepts` for the `FilterForm` (a typo is shown by the field, the server is not
 * asked) and `add`, which narrows the filter by one more `key:value` (a tag clicked in the
 * list). `TagFilterField` is its field.
 */
export function useAddressTagFilter<Name extends string>(name: Name) {
  const { params, setFilters } = useAddressFilters();
  const { problem, parse } = useTagFilter();
  const text = params.get(name) ?? "";
  return {
    name,
    text,
    problem,
    accepts: (values: Readonly<Record<Name, string>>) => parse(values[name]) !== null,
    add: (key: string, value: string) => setFilters({ [name]: withTag(text, key, value) }),
  };
}

export type AddressTagFilter = ReturnType<typeof useAddressTagFilter>;
