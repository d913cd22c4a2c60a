import { Link } from "react-router";
import { PageHeading } from "./PageHeading";

/** Unknown addresses, and pages the caller's role may not see (the API's "no enumeration"). */
export function NotFound() {
  return (
    <section>
      <PageHeading>Page not found</PageHeading>
      <p>There is no page at this address.</p>
      <p>
        <Link to="/">Go to the dashboard</Link>
      </p>
    </section>
  );
}
