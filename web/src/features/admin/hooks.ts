/** Staff views of the users: the list, and the actions on one user. */
import { useQuery } from "@tanstack/react-query";
import { api, call, callPage, callVoid, type Schema } from "../../api/client";
import { listQueryHook, useInvalidatingMutation } from "../../api/queries";
import { queryKeys } from "../../api/queryKeys";

export type UserProfile = Schema<"UserProfile">;

export const useUsers = listQueryHook("/api/v1/users", queryKeys.users.list);

/** How many active admins there are (admins only; the last one may not be demoted). */
export function useActiveAdminCount(enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.users.activeAdminCount,
    queryFn: async () =>
      (
        await callPage(
          api.GET("/api/v1/users", {
            params: { query: { role: "admin", is_active: true, limit: 1 } },
          }),
        )
      ).total,
    enabled,
  });
}

function pathOf(userId: string) {
  return { params: { path: { user_id: userId } } };
}

/** Each action re-reads the staff lists (and the admin count) afterwards. */
function useUserMutation<Input, Output>(run: (input: Input) => Promise<Output>) {
  return useInvalidatingMutation([queryKeys.users.all], run);
}

export function useSetRole(userId: string) {
  return useUserMutation((body: Schema<"SetRole">) =>
    call(api.PUT("/api/v1/users/{user_id}/role", { ...pathOf(userId), body })),
  );
}

export function useSetStatus(userId: string) {
  return useUserMutation((body: Schema<"SetStatus">) =>
    call(api.PUT("/api/v1/users/{user_id}/status", { ...pathOf(userId), body })),
  );
}

export function useResetPassword(userId: string) {
  return useUserMutation((body: Schema<"ResetPassword">) =>
    callVoid(api.POST("/api/v1/users/{user_id}/reset-password", { ...pathOf(userId), body })),
  );
}

export function useCreateUser() {
  return useUserMutation((body: Schema<"CreateUser">) => call(api.POST("/api/v1/users", { body })));
}

/** Admins change another user's username, email or its verified mark (only what is sent). */
export function useUpdateUserProfile(userId: string) {
  return useUserMutation((body: Schema<"AdminUpdateProfile">) =>
    call(api.PUT("/api/v1/users/{user_id}/profile", { ...pathOf(userId), body })),
  );
}

/** Counts of the accounts (admins only). */
export function useUserStats() {
  return useQuery({
    queryKey: queryKeys.users.stats,
    queryFn: () => call(api.GET("/api/v1/admin/users/stats")),
  });
}

/**
 * Soft delete by default (the row stays for audit; the user can no longer sign in), or with
 * `hard_delete` the row itself. Admins only.
 */
export function useDeleteUser(userId: string) {
  return useUserMutation((body: Schema<"DeleteUser">) =>
    callVoid(api.DELETE("/api/v1/users/{user_id}", { ...pathOf(userId), body })),
  );
}
