/**
 * The query cache and its error policy, the middle of the error chain:
 *
 *   API envelope → ApiError (client.ts) → the query's error state → here:
 *   - a 401 anywhere sends to sign-in (and back afterwards), unless the caller handles it
 *     itself (`meta: { handlesUnauthorized: true }`: the login form, a wrong current password);
 *   - other query errors are thrown to the nearest error boundary (`QueryBoundary`);
 *   - mutation errors stay with the form that made them (fields next to their inputs).
 */
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { isApiError, isUnauthorized } from "./errors";

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

export function createQueryClient(onUnauthorized: () => void): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => {
        if (needsSignIn(error, query.meta)) onUnauthorized();
      },
    }),
    mutationCache: new MutationCache({
      onError: (error, _variables, _context, mutation) => {
        if (needsSignIn(error, mutation.meta)) onUnauthorized();
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
}
