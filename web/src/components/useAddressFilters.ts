import { useSearchParams, type NavigateOptions } from "react-router";
import { PAGE_SIZE, type PageParams } from "../api/queries";

/**
 * A list page's filters and page offset, kept in the address: a filtered page can be
 * bookmarked, reloaded and reached again with back and forward. `page` is the list's
 * `limit` (`PAGE_SIZE`) and `offset`, to add to its filters.
 */
export function useAddressFilters() {
  const [params, setParams] = useSearchParams();
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const page: PageParams = { limit: PAGE_SIZE, offset };

  /** Set each value (an empty one is removed); any change but the offset goes back to page 1. */
  function setFilters(values: Readonly<Record<string, string>>, options?: NavigateOptions) {
    setParams((current) => {
      const next = new URLSearchParams(current);
      for (const [name, value] of Object.entries(values)) {
        if (value) next.set(name, value);
        else next.delete(name);
      }
      if (!("offset" in values)) next.delete("offset");
      return next;
    }, options);
  }

  return {
    params,
    page,
    setFilters,
    setFilter: (name: string, value: string) => setFilters({ [name]: value }),
    setOffset: (value: number) => setFilters({ offset: value ? String(value) : "" }),
    clearFilters: () => setParams(new URLSearchParams()),
  };
}
