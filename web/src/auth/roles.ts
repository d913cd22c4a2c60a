/**
 * Roles are ordered: user < moderator < admin. A page names the lowest role that may see
 * it; the navigation offers only those, and one typed in by a lower role shows "not found"
 * (as the API answers 404, not 403, for what a caller may not see).
 */
import type { Schema } from "../api/client";

export type Role = Schema<"Role">;

const RANK: Record<Role, number> = { user: 0, moderator: 1, admin: 2 };

export function hasRole(role: Role | null | undefined, minimum: Role): boolean {
  return role != null && RANK[role] >= RANK[minimum];
}

/** The entries a caller with `role` may see, in their declared order. */
export function visibleTo<Entry extends { minRole: Role }>(
  entries: readonly Entry[],
  role: Role | null | undefined,
): Entry[] {
  return entries.filter((entry) => hasRole(role, entry.minRole));
}

/** A role named by the server as a plain string; an unknown name counts as the strictest. */
export function roleNamed(name: string | null | undefined): Role {
  return name === "user" || name === "moderator" || name === "admin" ? name : "admin";
}
