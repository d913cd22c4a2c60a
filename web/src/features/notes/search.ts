/**
 * Search in the notes list. The server does the real search (full text over title and
 * content, `q`), asked once typing pauses; meanwhile the notes already on screen are
 * narrowed at once to those containing every typed word, so the list answers each key.
 * The server's answer for the typed text is shown as it is: its full-text search matches
 * word forms ("running" finds "run") that a plain substring test would wrongly drop.
 */

/** The words of a search, lower-cased; none for blank text. */
export function searchWords(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}

/** Whether a note contains every word of `text` in its title or content (any case). */
export function noteMatches(note: { title: string; content: string }, text: string): boolean {
  const haystack = `${note.title}\n${note.content}`.toLowerCase();
  return searchWords(text).every((word) => haystack.includes(word));
}

/**
 * The notes to show: `items` answered the search `answeredFor` (null: an earlier request,
 * kept on screen while the next one runs); while the user has typed something else
 * (`typed`) that the server has not answered yet, narrow them locally.
 */
export function visibleNotes<Note extends { title: string; content: string }>(
  items: readonly Note[],
  typed: string,
  answeredFor: string | null,
): Note[] {
  if (answeredFor !== null && typed.trim() === answeredFor.trim()) return [...items];
  return items.filter((note) => noteMatches(note, typed));
}

/** Wait this long after the last key before asking the server. */
export const SEARCH_DEBOUNCE_MS = 300;
