/**
 * The route table: every page of the app, one line each. Adding a page = one file under
 * `src/pages/` (a default-exported component) + one entry here. Each page is its own
 * chunk (`load` is a dynamic import), fetched the first time someone may see it.
 *
 * - `minRole`: the lowest role that may see the page; a lower role is not offered it in
 *   the navigation and, typing its address, sees "not found".
 * - `nav`: the navigation label; pages without one are reached by links (detail pages).
 * - `public: true`: for signed-out visitors (sign in, register); everything else needs a
 *   session and sends a visitor to sign in first.
 * - `badge`: a small live component shown after the navigation label (the unread count).
 */
import type { ComponentType } from "react";
import { type Role, visibleTo } from "./auth/roles";
import { UnreadBadge } from "./features/notifications/UnreadBadge";

export interface PageRoute {
  path: string;
  minRole: Role;
  nav?: string;
  public?: boolean;
  badge?: ComponentType;
  load: () => Promise<{ default: ComponentType }>;
}

export const routes: readonly PageRoute[] = [
  { path: "/sign-in", minRole: "user", public: true, load: () => import("./pages/SignIn") },
  { path: "/register", minRole: "user", public: true, load: () => import("./pages/Register") },
  { path: "/", minRole: "user", nav: "Dashboard", load: () => import("./pages/Dashboard") },
  { path: "/tasks", minRole: "user", nav: "Tasks", load: () => import("./pages/Tasks") },
  { path: "/tasks/new", minRole: "user", load: () => import("./pages/TaskCreate") },
  { path: "/tasks/:taskId", minRole: "user", load: () => import("./pages/TaskDetail") },
  { path: "/notes", minRole: "user", nav: "Notes", load: () => import("./pages/Notes") },
  { path: "/notes/new", minRole: "user", load: () => import("./pages/NoteNew") },
  { path: "/notes/:noteId", minRole: "user", load: () => import("./pages/NoteDetail") },
  {
    path: "/notifications",
    minRole: "user",
    nav: "Notifications",
    badge: UnreadBadge,
    load: () => import("./pages/Notifications"),
  },
  {
    path: "/monitoring",
    minRole: "user",
    nav: "Monitoring",
    load: () => import("./pages/MonitoringEvents"),
  },
  { path: "/monitoring/metrics", minRole: "user", load: () => import("./pages/MonitoringMetrics") },
  {
    path: "/monitoring/stats",
    minRole: "moderator",
    load: () => import("./pages/MonitoringStats"),
  },
  { path: "/monitoring/alerts", minRole: "user", load: () => import("./pages/MonitoringAlerts") },
  {
    path: "/monitoring/incidents",
    minRole: "user",
    load: () => import("./pages/MonitoringIncidents"),
  },
  {
    path: "/monitoring/incidents/:incidentId",
    minRole: "user",
    load: () => import("./pages/IncidentDetail"),
  },
  { path: "/queue", minRole: "moderator", nav: "Queue", load: () => import("./pages/Queue") },
  { path: "/users", minRole: "moderator", nav: "Users", load: () => import("./pages/Users") },
  { path: "/profile", minRole: "user", nav: "Profile", load: () => import("./pages/Profile") },
];

/** Navigation entries for a role, in table order (none for a signed-out visitor). */
export function navFor(role: Role | null | undefined, table: readonly PageRoute[] = routes) {
  return visibleTo(
    table.filter((route) => route.nav !== undefined && !route.public),
    role,
  );
}
