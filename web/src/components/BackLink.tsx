import { Link } from "react-router";

/** Above a sub-page's heading: the way back to the list it belongs to ("← All tasks"). */
export function BackLink({ to, children }: { to: string; children: string }) {
  return (
    <p>
      <Link to={to}>← {children}</Link>
    </p>
  );
}
