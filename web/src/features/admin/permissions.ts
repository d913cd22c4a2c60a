/**
 * What a staff member may do to one user, as the API decides it — so the page offers only
 * what can succeed:
 * - moderators act on plain users only (activate/deactivate, reset password); they do not
 *   even see admins; only admins change roles;
 * - nobody deactivates or resets the password of themselves here (the API answers 409/400:
 *   one's own account is changed on the profile page);
 * - only admins delete users (softly, or the row for good), never themselves (their own
 *   account is deleted on the profile page);
 * - only admins edit another user's username, email and its verified mark (their own on the
 *   profile page);
 * - the last active admin can be neither demoted, deactivated nor deleted (409).
 */
import { hasRole, type Role } from "../../auth/roles";

export interface Actor {
  id: string;
  role: Role;
}

export interface Target {
  id: string;
  role: Role;
  is_active: boolean;
}

export interface UserActions {
  changeRole: boolean;
  /** Roles the target may be given (its own included); only `admin` for the last admin. */
  roles: Role[];
  activate: boolean;
  deactivate: boolean;
  resetPassword: boolean;
  delete: boolean;
  editProfile: boolean;
  /** Why something usual is not offered, to say so beside the row. */
  note: string | null;
}

const ALL_ROLES: Role[] = ["user", "moderator", "admin"];

/**
 * `activeAdmins`: how many active admins there are (admins only can know; undefined while
 * unknown, when demoting and deactivating admins is held back until it is known).
 */
export function userActions(
  actor: Actor,
  target: Target,
  activeAdmins: number | undefined,
): UserActions {
  const self = actor.id === target.id;
  const isAdmin = actor.role === "admin";
  const mayModerate = isAdmin || (hasRole(actor.role, "moderator") && target.role === "user");
  const lastAdmin =
    target.role === "admin" &&
    target.is_active &&
    (activeAdmins === undefined || activeAdmins <= 1);
  return {
    changeRole: isAdmin && !lastAdmin,
    roles: isAdmin && !lastAdmin ? ALL_ROLES : [target.role],
    activate: mayModerate && !self && !target.is_active,
    deactivate: mayModerate && !self && target.is_active && !lastAdmin,
    resetPassword: mayModerate && !self,
    delete: isAdmin && !self && !lastAdmin,
    editProfile: isAdmin && !self,
    note: self
      ? "This is you: change your own account on the profile page."
      : lastAdmin && isAdmin && activeAdmins !== undefined
        ? "The only active admin: make another user admin before demoting, deactivating or deleting this one."
        : !mayModerate
          ? "Only admins act on moderators."
          : null,
  };
}
