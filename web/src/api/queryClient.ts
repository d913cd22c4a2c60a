/**
 * The query cache and its error policy, the middle of the error chain:
 *
 *   API envelope → ApiError (client.ts) → the query's error state → here:
 *   - a 401 anywhere sends to sign-in (and back afterwards), unless the caller handles it
 *     itself (`meta: { handlesUnauthorized: true }`: the login form, a wrong current password);
 *   - other query errors are thrown to the nearest error boundary (`QueryBoundary`);
 *   - mutation errors stay with the form that made them (fields next to their inputs);
 *   - a 403 anywhere means the user's role may have changed since `/auth/me` was read:
 *     it is read again, so the navigation stops offering what the role no longer allows.
 */
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { isApiError, isUnauthorized } from "./errors";
import { queryKeys } from "./queryKeys";

declare module "@tanstack/react-query" {
  interface Register {
    queryMeta: { handlesUnauthorized?: boolean };
    mutationMeta: { handlesUnauthorized?: boolean };
  }
}

/** Retry only what may succeed on its own: no answer, or a server error. Never a 4xx. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (failureCount >= 2) return false;
  if (!isApiError(error)) return false;
  return error.status === 0 || error.status >= 500;
}

/** Whether an error should send the user to sign in. */
export function needsSignIn(error: unknown, meta: { handlesUnauthorized?: boolean } | undefined) {
  return isUnauthorized(error) && !meta?.handlesUnauthorized;
}

/** Whether an error says the user's rights changed (a 403), except from `/auth/me` itself. */
export function mayHaveLostRights(error: unknown, queryKey?: readonly unknown[]): boolean {
  const fromMe = queryKey?.[0] === queryKeys.me[0] && queryKey[1] === queryKeys.me[1];
  return isApiError(error) && error.status === 403 && !fromMe;
}

export function createQueryClient(onUnauthorized: () => void): QueryClient {
  const recheckWhoIsSignedIn = () => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.me });
  };
  const queryClient: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => {
        if (needsSignIn(error, query.meta)) onUnauthorized();
        if (mayHaveLostRights(error, query.queryKey)) recheckWhoIsSignedIn();
      },
    }),
    mutationCache: new MutationCache({
      onError: (error, _variables, _context, mutation) => {
        if (needsSignIn(error, mutation.meta)) onUnauthorized();
        if (mayHaveLostRights(error)) recheckWhoIsSignedIn();
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        retry: shouldRetry,
        // A 401 is handled by the redirect above; anything else reaches an error boundary.
        throwOnError: (error) => !isUnauthorized(error),
      },
      mutations: { retry: false },
    },
  });
  return queryClient;
}
