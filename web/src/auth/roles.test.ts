import { describe, expect, it } from "vitest";
import { navFor, routes, type PageRoute } from "../routes";
import { hasRole } from "./roles";

const page = () => Promise.resolve({ default: () => null });
const table: PageRoute[] = [
  { path: "/sign-in", minRole: "user", public: true, nav: "Sign in", load: page },
  { path: "/", minRole: "user", nav: "Home", load: page },
  { path: "/things/:id", minRole: "user", load: page },
  { path: "/review", minRole: "moderator", nav: "Review", load: page },
  { path: "/admin", minRole: "admin", nav: "Admin", load: page },
];

describe("hasRole", () => {
  it("orders user < moderator < admin", () => {
    expect(hasRole("admin", "moderator")).toBe(true);
    expect(hasRole("moderator", "moderator")).toBe(true);
    expect(hasRole("user", "moderator")).toBe(false);
    expect(hasRole(null, "user")).toBe(false);
  });
});

describe("navFor", () => {
  const labels = (role: Parameters<typeof navFor>[0]) => navFor(role, table).map((r) => r.nav);

  it("offers each role only the pages it may see, in table order", () => {
    expect(labels("user")).toEqual(["Home"]);
    expect(labels("moderator")).toEqual(["Home", "Review"]);
    expect(labels("admin")).toEqual(["Home", "Review", "Admin"]);
  });

  it("offers nothing to a signed-out visitor and never lists public or detail pages", () => {
    expect(labels(null)).toEqual([]);
    expect(navFor("admin", table).some((r) => r.public || r.path.includes(":"))).toBe(false);
  });

  it("holds for the app's own table: every navigation entry is a signed-in page", () => {
    expect(navFor("user").map((r) => r.path)).toContain("/tasks");
    expect(new Set(routes.map((r) => r.path)).size).toBe(routes.length);
  });
});
