import { QueryErrorResetBoundary } from "@tanstack/react-query";
import { Suspense, type ReactNode } from "react";
import { ErrorBoundary, type FallbackProps } from "react-error-boundary";
import { isUnauthorized } from "../api/errors";
import { ErrorMessage } from "./ErrorMessage";
import { Loading } from "./Loading";

/**
 * The end of the error chain for reads: a query that failed (or a page that threw) lands
 * here and is shown as a message with a "Try again" button that refetches. `resetKey`
 * (the location) clears the error when the user navigates elsewhere.
 */
export function QueryBoundary({ children, resetKey }: { children: ReactNode; resetKey?: string }) {
  return (
    <QueryErrorResetBoundary>
      {({ reset }) => (
        <ErrorBoundary
          onReset={reset}
          resetKeys={resetKey === undefined ? [] : [resetKey]}
          FallbackComponent={ErrorFallback}
        >
          <Suspense fallback={<Loading />}>{children}</Suspense>
        </ErrorBoundary>
      )}
    </QueryErrorResetBoundary>
  );
}

function ErrorFallback({ error, resetErrorBoundary }: FallbackProps) {
  if (isUnauthorized(error)) return <Loading label="Your session has ended; signing in again…" />;
  return (
    <section className="error-panel">
      <h2>This could not be shown</h2>
      <ErrorMessage error={error} />
      <button type="button" onClick={resetErrorBoundary}>
        Try again
      </button>
    </section>
  );
}
