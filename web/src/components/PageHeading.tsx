import { useEffect, useRef } from "react";

/** Set by the first heading: on the first load the browser's own focus stays put. */
let firstPageShown = false;

/**
 * The page's `<h1>`. After a client-side navigation it takes the keyboard focus, so a
 * screen reader announces the new page and Tab starts from its top (a full page load does
 * this by itself; a single-page app must). It also sets the document title.
 */
export function PageHeading({ children, title }: { children: string; title?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title ?? children} · studypath`;
    if (firstPageShown) ref.current?.focus();
    firstPageShown = true;
  }, [children, title]);
  return (
    <h1 ref={ref} tabIndex={-1} className="page-heading">
      {children}
    </h1>
  );
}
