/** "1 event", "3 events": a count and its noun. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * A moment in the reader's locale, in a `<time>` that keeps the exact value for machines
 * and assistive technology; "—" when there is none.
 */
export function when(value: string | null | undefined) {
  return value ? <time dateTime={value}>{new Date(value).toLocaleString()}</time> : "—";
}
