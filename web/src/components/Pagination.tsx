/** Page n of m for a list with `limit`/`offset` and its total (`X-Total-Count`). */
export function pageCount(total: number, limit: number): number {
  return Math.max(1, Math.ceil(total / limit));
}

/** Previous / next through a long list; nothing when it all fits on one page. */
export function Pagination({
  total,
  limit,
  offset,
  onOffsetChange,
  label = "Pages",
}: {
  total: number;
  limit: number;
  offset: number;
  onOffsetChange: (offset: number) => void;
  label?: string;
}) {
  const page = Math.floor(offset / limit) + 1;
  const pages = pageCount(total, limit);
  if (pages === 1 && page === 1) return null;
  return (
    <nav className="pagination" aria-label={label}>
      <button
        type="button"
        className="secondary"
        disabled={page <= 1}
        onClick={() => onOffsetChange(Math.max(0, offset - limit))}
      >
        Previous
      </button>
      <span aria-live="polite">
        Page {page} of {pages} ({total} in all)
      </span>
      <button
        type="button"
        className="secondary"
        disabled={page >= pages}
        onClick={() => onOffsetChange(offset + limit)}
      >
        Next
      </button>
    </nav>
  );
}
