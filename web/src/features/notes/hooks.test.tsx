import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, type Page } from "../../api/client";
import { ApiError } from "../../api/errors";
import { createQueryClient } from "../../api/queryClient";
import { queryKeys } from "../../api/queryKeys";
import { useUpdateNote, type Note } from "./hooks";

afterEach(() => vi.restoreAllMocks());

const note: Note = {
  id: "n1",
  owner_id: "u1",
  title: "Shopping",
  content: "milk",
  is_public: false,
  created_at: "2025-01-01T00:00:00Z",
  updated_at: "2025-01-01T00:00:00Z",
  access: "owner",
};
const other: Note = { ...note, id: "n2", title: "Other" };
const listKey = queryKeys.notes.list({ include_public: false, limit: 20, offset: 0 });
const searchKey = queryKeys.notes.list({ q: "shop", include_public: false, limit: 20, offset: 0 });

/** A cache holding the note, a list and a search result that both show it. */
function seededClient(): QueryClient {
  const queryClient = createQueryClient(() => {});
  queryClient.setQueryData(queryKeys.notes.detail(note.id), note);
  queryClient.setQueryData<Page<Note>>(listKey, { items: [note, other], total: 2 });
  queryClient.setQueryData<Page<Note>>(searchKey, { items: [note], total: 1 });
  return queryClient;
}

function wrapperFor(queryClient: QueryClient) {
  return ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
  );
}

/** An answer to `api.PUT` that arrives when the test says so. */
function deferredPut() {
  let answer!: (result: { data?: unknown; error?: unknown; response: Response }) => void;
  const pending = new Promise<{ data?: unknown; error?: unknown; response: Response }>((resolve) => {
    answer = resolve;
  });
  const put = vi.spyOn(api, "PUT").mockReturnValue(pending as ReturnType<typeof api.PUT>);
  return { put, answer };
}

const titles = (queryClient: QueryClient) => ({
  detail: queryClient.getQueryData<Note>(queryKeys.notes.detail(note.id))?.title,
  list: queryClient.getQueryData<Page<Note>>(listKey)?.items.map((n) => n.title),
  search: queryClient.getQueryData<Page<Note>>(searchKey)?.items.map((n) => n.title),
});

describe("useUpdateNote (optimistic)", () => {
  it("shows the change everywhere at once, and puts everything back when the server refuses it", async () => {
    const queryClient = seededClient();
    const { put, answer } = deferredPut();
    const invalidate = vi.spyOn(queryClient, "invalidateQueries");
    const { result } = renderHook(() => useUpdateNote(note.id), { wrapper: wrapperFor(queryClient) });

    act(() => result.current.mutate({ title: "Groceries" }));

    // Before the server answers: the note, the list and the search show the new title.
    await waitFor(() =>
      expect(titles(queryClient)).toEqual({
        detail: "Groceries",
        list: ["Groceries", "Other"],
        search: ["Groceries"],
      }),
    );
    expect(put).toHaveBeenCalledTimes(1);
    expect(put.mock.calls[0]?.[1]).toMatchObject({ body: { title: "Groceries" } });

    answer({
      response: new Response(null, { status: 400 }),
      error: {
        error: {
          code: "VALIDATION_FAILED",
          message: "title: too long",
          details: [{ field: "title", message: "at most 200 characters" }],
        },
      },
    });

    await waitFor(() => expect(result.current.isError).toBe(true));
    // Rolled back: every cached copy is as it was before the edit.
    expect(titles(queryClient)).toEqual({ detail: "Shopping", list: ["Shopping", "Other"], search: ["Shopping"] });
    // The error reaches the form, by its field.
    const error = result.current.error;
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).fieldError("title")).toBe("at most 200 characters");
    // And the notes are read again whatever happened (onSettled).
    expect(invalidate).toHaveBeenCalledWith({ queryKey: queryKeys.notes.all });
  });

  it("keeps the server's answer on success", async () => {
    const queryClient = seededClient();
    const { answer } = deferredPut();
    const { result } = renderHook(() => useUpdateNote(note.id), { wrapper: wrapperFor(queryClient) });

    act(() => result.current.mutate({ content: "milk, eggs" }));
    const saved = { ...note, content: "milk, eggs", updated_at: "2025-01-02T00:00:00Z" };
    answer({ response: new Response(null, { status: 200 }), data: { success: true, data: saved, message: null } });

    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(queryClient.getQueryData<Note>(queryKeys.notes.detail(note.id))).toEqual(saved);
  });

  it("does not let a read in flight overwrite the optimistic change", async () => {
    const queryClient = seededClient();
    deferredPut();
    // A refetch of the note started before the edit and answering the old title late.
    let late!: (value: Note) => void;
    void queryClient.fetchQuery({
      queryKey: queryKeys.notes.detail(note.id),
      queryFn: () => new Promise<Note>((resolve) => (late = resolve)),
      staleTime: 0,
    }).catch(() => {});
    const { result } = renderHook(() => useUpdateNote(note.id), { wrapper: wrapperFor(queryClient) });

    act(() => result.current.mutate({ title: "Groceries" }));
    await waitFor(() => expect(titles(queryClient).detail).toBe("Groceries"));
    late(note);
    // Let the late answer settle (a cancelled fetch's answer is dropped).
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(titles(queryClient).detail).toBe("Groceries");
  });
});
