import { useState } from "react";
import { parseTagFilter } from "./tagFilter";

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
