import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { Loading } from "../components/Loading";
import { NotFound } from "../components/NotFound";
import { hasRole, type Role } from "./roles";
import { signInPathFor } from "./redirect";
import { useMe } from "./session";

/** The page where a forced password change happens (a staff reset asked for one). */
export const PASSWORD_CHANGE_PATH = "/profile";

/**
 * A page behind a session and a role. Nobody signed in → sign in, then back here.
 * Signed in below `minRole` → "not found" (the page is not offered to that role).
 * A password change required → the profile page, the only one that works until then.
 */
export function RequireAuth({ minRole, children }: { minRole: Role; children: ReactNode }) {
  const location = useLocation();
  const { data: me, isPending } = useMe();
  if (isPending) return <Loading label="Checking your session…" />;
  if (!me) return <Navigate to={signInPathFor(location)} replace />;
  if (me.password_change_required && location.pathname !== PASSWORD_CHANGE_PATH) {
    return <Navigate to={PASSWORD_CHANGE_PATH} replace />;
  }
  if (!hasRole(me.role, minRole)) return <NotFound />;
  return <>{children}</>;
}
