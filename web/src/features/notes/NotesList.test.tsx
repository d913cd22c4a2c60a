import { QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { MemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../api/client";
import { createQueryClient } from "../../api/queryClient";
import type { Note } from "./hooks";
import { NotesList, type NotesListState } from "./NotesList";
import { SEARCH_DEBOUNCE_MS } from "./search";

const note = (id: string, title: string, content: string): Note => ({
  id,
  owner_id: "u1",
  title,
  content,
  is_public: false,
  created_at: "2025-01-01T00:00:00Z",
  updated_at: "2025-01-01T00:00:00Z",
  access: "owner",
});
const all = [
  note("1", "Shopping", "milk and bread"),
  note("2", "Running plan", "5 km"),
  note("3", "Baking", "bread recipes"),
];

/** The server: `q` = "bread" finds notes 1 and 3 (and, as full text would, "Breads" too). */
function answer(q: string | undefined) {
  const items = q ? [...all.filter((n) => n.content.includes(q)), note("4", "Breads", "rye")] : all;
  const response = new Response(null, {
    status: 200,
    headers: { "X-Total-Count": String(items.length) },
  });
  return Promise.resolve({ data: { success: true, data: items, message: null }, response });
}

function Harness() {
  const [state, setState] = useState<NotesListState>({ q: "", includePublic: false, offset: 0 });
  return <NotesList state={state} onChange={setState} />;
}

let get: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  get = vi
    .spyOn(api, "GET")
    .mockImplementation(((_path: string, init: { params: { query: { q?: string } } }) =>
      answer(init.params.query.q)) as unknown as typeof api.GET);
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const titles = () =>
  within(screen.getByRole("list", { name: "Notes" }))
    .getAllByRole("link")
    .map((link) => link.textContent);

describe("NotesList search", () => {
  it("narrows the list at each key, then shows the server's full-text answer once typing pauses", async () => {
    render(
      <QueryClientProvider client={createQueryClient(() => {})}>
        <MemoryRouter>
          <Harness />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    expect(await screen.findByRole("link", { name: "Running plan" })).toBeTruthy();
    expect(get).toHaveBeenCalledTimes(1);

    fireEvent.change(screen.getByRole("searchbox", { name: "Search notes" }), {
      target: { value: "bread" },
    });
    // At once, before any request: only the notes on screen containing the word.
    expect(titles()).toEqual(["Shopping", "Baking"]);
    expect(get).toHaveBeenCalledTimes(1);

    await act(async () => {
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS + 10);
    });
    // One request for the whole word, and its answer shown as the server gave it.
    expect(get).toHaveBeenCalledTimes(2);
    expect(get.mock.calls[1]?.[1]).toMatchObject({ params: { query: { q: "bread" } } });
    expect(await screen.findByRole("link", { name: "Breads" })).toBeTruthy();
    expect(titles()).toEqual(["Shopping", "Baking", "Breads"]);
  });
});
