/**
 * The events list's tag filter, `key:value,key2:value2` (every pair must match), checked
 * here as the server checks it so a typo is shown by the field before any request.
 */

export const MAX_TAG_FILTERS = 20;

export type TagFilterResult = { ok: true; tags: Record<string, string> } | { ok: false; problem: string };

export function parseTagFilter(text: string): TagFilterResult {
  const tags: Record<string, string> = {};
  if (text.trim() === "") return { ok: true, tags };
  for (const part of text.split(",")) {
    const colon = part.indexOf(":");
    const key = colon < 0 ? "" : part.slice(0, colon).trim();
    const value = colon < 0 ? "" : part.slice(colon + 1).trim();
    if (!key || !value) {
      return { ok: false, problem: `“${part.trim()}” is not key:value (e.g. env:prod,team:search).` };
    }
    if (key in tags) return { ok: false, problem: `The key “${key}” is given twice.` };
    tags[key] = value;
  }
  if (Object.keys(tags).length > MAX_TAG_FILTERS) {
    return { ok: false, problem: `At most ${MAX_TAG_FILTERS} tags.` };
  }
  return { ok: true, tags };
}

/** The filter text for `tags` (the inverse of `parseTagFilter`). */
export function formatTagFilter(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([key, value]) => `${key}:${value}`)
    .join(",");
}

/** The filter with one more `key:value` (replacing the key's value if it had one). */
export function withTag(text: string, key: string, value: string): string {
  const parsed = parseTagFilter(text);
  const tags = parsed.ok ? { ...parsed.tags } : {};
  tags[key] = value;
  return formatTagFilter(tags);
}
