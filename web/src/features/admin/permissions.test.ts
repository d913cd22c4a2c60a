import { describe, expect, it } from "vitest";
import { userActions, type Actor, type Target } from "./permissions";

const admin: Actor = { id: "a1", role: "admin" };
const moderator: Actor = { id: "m1", role: "moderator" };
const plain: Target = { id: "u1", role: "user", is_active: true };
const otherAdmin: Target = { id: "a2", role: "admin", is_active: true };

describe("userActions", () => {
  it("lets a moderator (de)activate and reset plain users, never change roles", () => {
    const may = userActions(moderator, plain, undefined);
    expect(may).toMatchObject({
      changeRole: false,
      deactivate: true,
      activate: false,
      resetPassword: true,
      delete: false,
    });
    expect(userActions(moderator, { ...plain, is_active: false }, undefined)).toMatchObject({
      activate: true,
      deactivate: false,
    });
  });

  it("offers a moderator nothing on another moderator, and says why", () => {
    const may = userActions(moderator, { id: "m2", role: "moderator", is_active: true }, undefined);
    expect(may).toMatchObject({
      changeRole: false,
      activate: false,
      deactivate: false,
      resetPassword: false,
      delete: false,
    });
    expect(may.note).toMatch(/only admins/i);
  });

  it("lets an admin do everything to another admin while another active admin remains", () => {
    const may = userActions(admin, otherAdmin, 2);
    expect(may).toMatchObject({
      changeRole: true,
      deactivate: true,
      resetPassword: true,
      delete: true,
    });
    expect(may.roles).toEqual(["user", "moderator", "admin"]);
  });

  it("never offers demoting or deactivating the last active admin", () => {
    const may = userActions(admin, otherAdmin, 1);
    expect(may).toMatchObject({ changeRole: false, deactivate: false, delete: false });
    expect(may.roles).toEqual(["admin"]);
    expect(may.note).toMatch(/only active admin/i);
    // An inactive admin is not the last *active* one: it may be changed.
    expect(userActions(admin, { ...otherAdmin, is_active: false }, 1).changeRole).toBe(true);
  });

  it("holds back demotion while the number of admins is unknown", () => {
    expect(userActions(admin, otherAdmin, undefined)).toMatchObject({
      changeRole: false,
      deactivate: false,
    });
    expect(userActions(admin, plain, undefined)).toMatchObject({
      changeRole: true,
      deactivate: true,
    });
  });

  it("does not offer deactivating or resetting oneself (the profile page does that)", () => {
    const may = userActions(admin, { id: admin.id, role: "admin", is_active: true }, 3);
    expect(may).toMatchObject({
      deactivate: false,
      resetPassword: false,
      delete: false,
      changeRole: true,
    });
    expect(may.note).toMatch(/this is you/i);
  });

  it("lets only admins edit another user's profile, nobody their own here", () => {
    expect(userActions(admin, plain, 2).editProfile).toBe(true);
    expect(userActions(admin, otherAdmin, 2).editProfile).toBe(true);
    expect(userActions(moderator, plain, undefined).editProfile).toBe(false);
    expect(userActions(admin, { ...otherAdmin, id: admin.id }, 2).editProfile).toBe(false);
  });
});
