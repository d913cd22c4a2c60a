/** The signed-in user's own account: profile, password, API keys, deletion. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, call, callVoid, type Schema } from "../../api/client";
import { queryKeys } from "../../api/queryKeys";
import { signedOut } from "../../auth/session";

export type ApiKeyInfo = Schema<"ApiKeyInfo">;

export function useProfile() {
  return useQuery({
    queryKey: queryKeys.profile,
    queryFn: () => call(api.GET("/api/v1/users/me/profile")),
  });
}

/** Change one's username or e-mail (a new e-mail is unverified again; a session only). */
export function useUpdateOwnProfile() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Schema<"UpdateOwnProfile">) =>
      call(api.PUT("/api/v1/users/me/profile", { body })),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.profile }),
        queryClient.invalidateQueries({ queryKey: queryKeys.me }),
      ]),
  });
}

/** A wrong current password is a 401 here: the form shows it, it does not sign out. */
export function useChangePassword() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { handlesUnauthorized: true },
    mutationFn: (body: Schema<"ChangePassword">) =>
      callVoid(api.PUT("/api/v1/users/me/password", { body })),
    // A change ends the other sessions and revokes API keys; a forced change is now done.
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.me }),
        queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys }),
      ]),
  });
}

export function useDeleteAccount() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Schema<"DeleteOwnAccount">) =>
      callVoid(api.DELETE("/api/v1/users/me", { body })),
    onSuccess: () => signedOut(queryClient),
  });
}

export function useApiKeys() {
  return useQuery({
    queryKey: queryKeys.apiKeys,
    queryFn: () => call(api.GET("/api/v1/api-keys")),
  });
}

/** Create a key; the answer holds the key itself, shown once and never stored in the cache. */
export function useCreateApiKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Schema<"CreateApiKey">) => call(api.POST("/api/v1/api-keys", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys }),
  });
}

export function useRevokeApiKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (keyId: string) =>
      callVoid(api.DELETE("/api/v1/api-keys/{key_id}", { params: { path: { key_id: keyId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys }),
  });
}
