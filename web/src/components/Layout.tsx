import { NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { useLogout, useMe } from "../auth/session";
import { navFor } from "../routes";
import { QueryBoundary } from "./QueryBoundary";

/** The frame of every page: skip link, header with the role's navigation, main content. */
export function Layout() {
  const location = useLocation();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <NavLink to="/" className="brand">
          studypath
        </NavLink>
        <MainNav />
      </header>
      <main id="main" className="app-main">
        <QueryBoundary resetKey={location.pathname}>
          <Outlet />
        </QueryBoundary>
      </main>
    </>
  );
}

function MainNav() {
  const { data: me } = useMe();
  const logout = useLogout();
  const navigate = useNavigate();
  if (!me) {
    return (
      <nav aria-label="Main" className="main-nav">
        <NavLink to="/sign-in">Sign in</NavLink>
        <NavLink to="/register">Register</NavLink>
      </nav>
    );
  }
  return (
    <nav aria-label="Main" className="main-nav">
      {navFor(me.role).map((route) => (
        <NavLink key={route.path} to={route.path} end={route.path === "/"}>
          {route.nav}
          {route.badge && <route.badge />}
        </NavLink>
      ))}
      <span className="whoami">
        {me.username} <span className="role">({me.role})</span>
      </span>
      <button
        type="button"
        className="link-button"
        disabled={logout.isPending}
        onClick={() => logout.mutate(false, { onSettled: () => navigate("/sign-in") })}
      >
        Sign out
      </button>
    </nav>
  );
}
