import type { ReactNode } from "react";
import { plural } from "./format";
import { Pagination } from "./Pagination";
import { useAddressFilters } from "./useAddressFilters";

/**
 * One page of a longer list (`callPage`'s `{items, total}`), paged through the address
 * (`useAddressFilters`' `page`): a sentence when the page is empty, else the count (with
 * `countNoun`) and the items, each shown by `children`; then the pager ("Pages of alerts").
 * Nothing before the page arrives.
 */
export function PagedList<Item>({
  label,
  page,
  empty,
  countNoun,
  children,
}: {
  /** The list's accessible name, e.g. "Alerts". */
  label: string;
  page: { items: Item[]; total: number } | undefined;
  empty?: ReactNode;
  countNoun?: string;
  /** One item, as a `<li>` with its `key`. */
  children: (item: Item) => ReactNode;
}) {
  const address = useAddressFilters();
  if (!page) return null;
  return (
    <>
      {page.items.length === 0
        ? empty && <p>{empty}</p>
        : countNoun && (
            <p className="muted" aria-live="polite">
              {plural(page.total, countNoun)}
            </p>
          )}
      {page.items.length > 0 && (
        <ul className="item-list" aria-label={label}>
          {page.items.map(children)}
        </ul>
      )}
      <Pagination
        label={`Pages of ${label.toLowerCase()}`}
        total={page.total}
        {...address.page}
        onOffsetChange={address.setOffset}
      />
    </>
  );
}
