import { describe, expect, it } from "vitest";
import { excerpt } from "./NotesList";
import { noteMatches, searchWords, visibleNotes } from "./search";

const notes = [
  { id: "1", title: "Shopping list", content: "Milk, eggs and BREAD" },
  { id: "2", title: "Running plan", content: "5 km on Monday" },
  { id: "3", title: "Ideas", content: "a bread-making course" },
];
const ids = (list: { id: string }[]) => list.map((n) => n.id);

describe("notes search", () => {
  it("splits a search into lower-cased words, none for blank text", () => {
    expect(searchWords("  Milk   EGGS ")).toEqual(["milk", "eggs"]);
    expect(searchWords("   ")).toEqual([]);
  });

  it("matches a note containing every word, in its title or text, in any case", () => {
    expect(noteMatches(notes[0]!, "bread milk")).toBe(true);
    expect(noteMatches(notes[0]!, "shopping eggs")).toBe(true);
    expect(noteMatches(notes[0]!, "bread monday")).toBe(false);
    expect(noteMatches(notes[1]!, "")).toBe(true);
  });

  it("narrows the notes on screen while the server has not answered the typed search", () => {
    expect(ids(visibleNotes(notes, "bread", ""))).toEqual(["1", "3"]);
    // The answer kept from an earlier request (null) is narrowed too.
    expect(ids(visibleNotes(notes, "monday", null))).toEqual(["2"]);
    expect(ids(visibleNotes(notes, "", null))).toEqual(["1", "2", "3"]);
  });

  it("shows the server's answer for the typed search as it is (full-text matches word forms)", () => {
    // The server found "Running plan" for "run"; a substring test would keep it too, but
    // not "ran": the server's answer is trusted, not filtered again.
    expect(ids(visibleNotes([notes[1]!], "ran", "ran"))).toEqual(["2"]);
    expect(ids(visibleNotes([notes[1]!], " ran ", "ran"))).toEqual(["2"]);
  });

  it("shortens long text for the list on a word boundary marker", () => {
    expect(excerpt("short\n\ntext")).toBe("short text");
    const long = "word ".repeat(50);
    const shown = excerpt(long, 20);
    expect(shown.length).toBeLessThanOrEqual(20);
    expect(shown.endsWith("…")).toBe(true);
  });
});
