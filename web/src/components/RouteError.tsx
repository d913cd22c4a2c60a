import { useRouteError } from "react-router";
import { ErrorMessage } from "./ErrorMessage";

/** Last resort: an error outside every page's own boundary (the layout itself failed). */
export function RouteError() {
  const error = useRouteError();
  return (
    <main id="main" className="app-main">
      <h1>Something went wrong</h1>
      <ErrorMessage error={error} />
      <p>
        <a href="/">Reload the app</a>
      </p>
    </main>
  );
}
