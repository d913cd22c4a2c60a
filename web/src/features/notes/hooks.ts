/**
 * The notes feature's hooks, as the guide's week 5 names them: useNotes, useNote,
 * useCreateNote, useUpdateNote (optimistic, rolled back on error), useShareNote, plus the
 * shares list, revoking a share and deleting a note. Every key comes from `queryKeys.notes`.
 */
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, call, callVoid, type Page, type Schema } from "../../api/client";
import { listQueryHook, useInvalidatingMutation } from "../../api/queries";
import { queryKeys } from "../../api/queryKeys";

export type Note = Schema<"NoteOut">;
export type NoteChanges = Schema<"UpdateNote">;
export type SharePermission = Schema<"SharePermission">;
export type Share = Schema<"ShareOut">;

export const SHARE_PERMISSIONS: readonly SharePermission[] = ["read", "edit"];

/** What the caller may do with a note, from the server's `access` (owner/edit/read/public). */
export function notePermissions(access: string) {
  const owner = access === "owner";
  return {
    edit: owner || access === "edit",
    /** Only the owner decides whether a note is public, shares it or deletes it. */
    publish: owner,
    share: owner,
    delete: owner,
  };
}

/**
 * One page of my notes, notes shared with me and (if asked) public ones; `q` searches.
 * While a new search runs, the previous answer stays on screen (filtered as typed).
 */
export const useNotes = listQueryHook("/api/v1/notes", queryKeys.notes.list);

export function useNote(noteId: string) {
  return useQuery({
    queryKey: queryKeys.notes.detail(noteId),
    queryFn: () =>
      call(api.GET("/api/v1/notes/{note_id}", { params: { path: { note_id: noteId } } })),
  });
}

export function useCreateNote() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Schema<"CreateNote">) => call(api.POST("/api/v1/notes", { body })),
    onSuccess: (note) => {
      queryClient.setQueryData(queryKeys.notes.detail(note.id), note);
      return queryClient.invalidateQueries({ queryKey: queryKeys.notes.lists });
    },
  });
}

/** What `onMutate` kept, to put back if the server refuses the change. */
export interface NoteSnapshot {
  detail: Note | undefined;
  lists: [readonly unknown[], Page<Note> | undefined][];
}

/** Apply `changes` to the cached note and to every cached list that shows it. */
export function applyNoteChanges(queryClient: QueryClient, noteId: string, changes: NoteChanges) {
  const patch = (note: Note): Note => ({ ...note, ...changes });
  queryClient.setQueryData<Note>(queryKeys.notes.detail(noteId), (note) => note && patch(note));
  queryClient.setQueriesData<Page<Note>>(
    { queryKey: queryKeys.notes.lists },
    (page) =>
      page && {
        ...page,
        items: page.items.map((note) => (note.id === noteId ? patch(note) : note)),
      },
  );
}

/**
 * Change a note, optimistically (the guide's pattern): the screen shows the change at once;
 * if the server refuses it, the cache is put back as it was and the error reaches the form.
 *
 *   onMutate:  stop reads in flight (they would overwrite the guess), snapshot, apply
 *   onError:   restore the snapshot
 *   onSettled: read the note and the lists again, whatever happened
 */
export function useUpdateNote(noteId: string) {
  const queryClient = useQueryClient();
  return useMutation<Note, Error, NoteChanges, NoteSnapshot>({
    mutationFn: (body) =>
      call(api.PUT("/api/v1/notes/{note_id}", { params: { path: { note_id: noteId } }, body })),
    onMutate: async (changes) => {
      await Promise.all([
        queryClient.cancelQueries({ queryKey: queryKeys.notes.detail(noteId) }),
        queryClient.cancelQueries({ queryKey: queryKeys.notes.lists }),
      ]);
      const snapshot: NoteSnapshot = {
        detail: queryClient.getQueryData<Note>(queryKeys.notes.detail(noteId)),
        lists: queryClient.getQueriesData<Page<Note>>({ queryKey: queryKeys.notes.lists }),
      };
      applyNoteChanges(queryClient, noteId, changes);
      return snapshot;
    },
    onError: (_error, _changes, snapshot) => {
      if (!snapshot) return;
      queryClient.setQueryData(queryKeys.notes.detail(noteId), snapshot.detail);
      for (const [key, page] of snapshot.lists) queryClient.setQueryData(key, page);
    },
    onSuccess: (note) => queryClient.setQueryData(queryKeys.notes.detail(noteId), note),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.notes.all }),
  });
}

export function useDeleteNote(noteId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      callVoid(api.DELETE("/api/v1/notes/{note_id}", { params: { path: { note_id: noteId } } })),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: queryKeys.notes.detail(noteId) });
      return queryClient.invalidateQueries({ queryKey: queryKeys.notes.lists });
    },
  });
}

/** Who a note is shared with (the owner only may ask). */
export function useShares(noteId: string, enabled = true) {
  return useQuery({
    queryKey: queryKeys.notes.shares(noteId),
    queryFn: () =>
      call(api.GET("/api/v1/notes/{note_id}/shares", { params: { path: { note_id: noteId } } })),
    enabled,
  });
}

export type ShareInput =
  | { username: string; permission: SharePermission }
  | { user_id: string; permission: SharePermission };

/** Share with a user to `read` or `edit`; sharing again changes the permission. */
export function useShareNote(noteId: string) {
  return useInvalidatingMutation([queryKeys.notes.shares(noteId)], (body: ShareInput) =>
    call(
      api.POST("/api/v1/notes/{note_id}/share", { params: { path: { note_id: noteId } }, body }),
    ),
  );
}

export function useRevokeShare(noteId: string) {
  return useInvalidatingMutation([queryKeys.notes.shares(noteId)], (userId: string) =>
    callVoid(
      api.DELETE("/api/v1/notes/{note_id}/share/{user_id}", {
        params: { path: { note_id: noteId, user_id: userId } },
      }),
    ),
  );
}
