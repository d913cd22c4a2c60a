import { QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { createQueryClient } from "./api/queryClient";
import { queryKeys } from "./api/queryKeys";
import type { Role } from "./auth/roles";
import { RequireAuth } from "./auth/RequireAuth";
import type { Me } from "./auth/session";
import { navFor, routes } from "./routes";

afterEach(cleanup);

/** The app's own route table, each page replaced by its path (no page code, no requests). */
function renderAt(path: string, role: Role) {
  const me: Me = { id: "1", username: "ada", email: "ada@example.com", role, password_change_required: false };
  const queryClient = createQueryClient(() => {});
  queryClient.setQueryData(queryKeys.me, me);
  const router = createMemoryRouter(
    routes.map((route) => ({
      path: route.path,
      element: <RequireAuth minRole={route.minRole}>{`page ${route.path}`}</RequireAuth>,
    })),
    { initialEntries: [path] },
  );
  render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}

const minRoleOf = (path: string) => routes.find((route) => route.path === path)?.minRole;

describe("the new pages in the route table", () => {
  it("gives each page the lowest role the API serves it to", () => {
    for (const path of ["/notes", "/notes/new", "/notes/:noteId", "/notifications", "/monitoring"]) {
      expect(minRoleOf(path), path).toBe("user");
    }
    for (const path of ["/monitoring/alerts", "/monitoring/incidents", "/monitoring/incidents/:incidentId"]) {
      expect(minRoleOf(path), path).toBe("user");
    }
    // Moderators list users, (de)activate and reset plain users; the DLQ and stats are theirs.
    expect(minRoleOf("/users")).toBe("moderator");
    expect(minRoleOf("/queue")).toBe("moderator");
  });

  it("offers the staff pages in the navigation only to staff", () => {
    const labels = (role: Role) => navFor(role).map((route) => route.nav);
    expect(labels("user")).toEqual(expect.arrayContaining(["Notes", "Notifications", "Monitoring"]));
    expect(labels("user")).not.toContain("Users");
    expect(labels("user")).not.toContain("Queue");
    expect(labels("moderator")).toEqual(expect.arrayContaining(["Users", "Queue"]));
    expect(labels("admin")).toEqual(expect.arrayContaining(["Users", "Queue"]));
  });

  it.each([["/users"], ["/queue"], ["/queue?offset=20"]])("answers 'not found' to a user typing %s", async (path) => {
    renderAt(path, "user");
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeTruthy();
    expect(screen.queryByText(/^page /)).toBeNull();
  });

  it.each([
    ["/users", "moderator", "page /users"],
    ["/queue", "moderator", "page /queue"],
    ["/users", "admin", "page /users"],
    ["/notes/0b7e1c1e-1111-4a4a-8888-222233334444", "user", "page /notes/:noteId"],
    ["/notes/new", "user", "page /notes/new"],
    ["/monitoring/incidents/abc", "user", "page /monitoring/incidents/:incidentId"],
  ] as const)("shows %s to a %s (deep links included)", async (path, role, shown) => {
    renderAt(path, role);
    expect(await screen.findByText(shown)).toBeTruthy();
  });
});
