/**
 * Who is signed in, from `GET /api/v1/auth/me` (the session cookie is HttpOnly: the page
 * cannot read it, only ask). `null` means nobody: a 401 from `/auth/me` is an answer,
 * not an error.
 */
import { type QueryClient, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, call, callVoid, type Schema } from "../api/client";
import { isUnauthorized } from "../api/errors";
import { queryKeys } from "../api/queryKeys";

export type Me = Schema<"Me">;

export async function fetchMe(): Promise<Me | null> {
  try {
    return await call(api.GET("/api/v1/auth/me"));
  } catch (error) {
    if (isUnauthorized(error)) return null;
    throw error;
  }
}

/**
 * How often the app asks again who is signed in. An admin may change the user's role (or
 * deactivate them) at any time; the app learns it within this interval, at once when the
 * user comes back to the tab, and at once when the server answers 403 (see queryClient.ts).
 */
export const ME_REFRESH_MS = 60_000;

export function useMe() {
  return useQuery({
    queryKey: queryKeys.me,
    queryFn: fetchMe,
    // Fresh for the interval: moving between pages asks nothing.
    staleTime: ME_REFRESH_MS,
    refetchInterval: ME_REFRESH_MS,
    refetchIntervalInBackground: false,
    // Back in the tab: ask even if fresh (the role may have changed meanwhile).
    refetchOnWindowFocus: "always",
  });
}

/** The signed-in user; only inside pages behind `RequireAuth`. */
export function useCurrentUser(): Me {
  const { data } = useMe();
  if (!data) throw new Error("useCurrentUser outside a signed-in page");
  return data;
}

export type LoginInput = { login: string; password: string };

/** Sign in with a username or an e-mail (an `@` decides which). */
export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { handlesUnauthorized: true },
    mutationFn: ({ login, password }: LoginInput) =>
      call(
        api.POST("/api/v1/auth/login", {
          body: login.includes("@") ? { email: login, password } : { username: login, password },
        }),
      ),
    onSuccess: async () => {
      forgetUserData(queryClient); // nothing cached for a previous user survives
      await queryClient.fetchQuery({ queryKey: queryKeys.me, queryFn: fetchMe, staleTime: 0 });
    },
  });
}

/** End this session (`everywhere`: every session, and the user's API keys). */
export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { handlesUnauthorized: true },
    mutationFn: (everywhere: boolean) =>
      callVoid(api.POST(everywhere ? "/api/v1/auth/logout-all" : "/api/v1/auth/logout")),
    onSettled: () => signedOut(queryClient),
  });
}

/** Mark nobody signed in and forget everything cached for the previous user. */
export function signedOut(queryClient: QueryClient) {
  queryClient.setQueryData(queryKeys.me, null);
  forgetUserData(queryClient);
}

/**
 * Drop every cached answer except "who is signed in" (kept, not removed, so the pages
 * watching it hear the change).
 */
function forgetUserData(queryClient: QueryClient) {
  void queryClient.cancelQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.me[0] });
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.me[0] });
}
