/** The signed-in user's own account: profile, password, API keys, deletion. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, call, callVoid, type Schema } from "../../api/client";
import { useInvalidatingMutation } from "../../api/queries";
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
  return useInvalidatingMutation(
    [queryKeys.profile, queryKeys.me],
    (body: Schema<"UpdateOwnProfile">) => call(api.PUT("/api/v1/users/me/profile", { body })),
  );
}

/**
 * A wrong current password is a 401 here: the form shows it, it does not sign out. A change
 * ends the other sessions and revokes API keys; a forced change is now done.
 */
export function useChangePassword() {
  return useInvalidatingMutation(
    [queryKeys.me, queryKeys.apiKeys],
    (body: Schema<"ChangePassword">) => callVoid(api.PUT("/api/v1/users/me/password", { body })),
    { meta: { handlesUnauthorized: true } },
  );
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
  return useInvalidatingMutation([queryKeys.apiKeys], (body: Schema<"CreateApiKey">) =>
    call(api.POST("/api/v1/api-keys", { body })),
  );
}

export function useRevokeApiKey() {
  return useInvalidatingMutation([queryKeys.apiKeys], (keyId: string) =>
    callVoid(api.DELETE("/api/v1/api-keys/{key_id}", { params: { path: { key_id: keyId } } })),
  );
}
