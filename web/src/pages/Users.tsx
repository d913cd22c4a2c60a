import { useEffect, useState } from "react";
import { useCurrentUser } from "../auth/session";
import type { Role } from "../auth/roles";
import { PasswordField, SelectField, TextField } from "../components/Field";
import { FilterSelect } from "../components/Filters";
import { CreatePanel } from "../components/Form";
import { PageHeading } from "../components/PageHeading";
import { plural } from "../components/format";
import { PagedList } from "../components/PagedList";
import { useAddressFilters } from "../components/useAddressFilters";
import { useDebounced } from "../components/useDebounced";
import { useActiveAdminCount, useCreateUser, useUsers } from "../features/admin/hooks";
import { userActions } from "../features/admin/permissions";
import { UserRow } from "../features/admin/UserRow";
import { UserStats } from "../features/admin/UserStats";

const ROLES: readonly Role[] = ["user", "moderator", "admin"];

/**
 * Users, for staff. Moderators see and act on plain users (activate, deactivate, reset a
 * password); admins also change roles, edit profiles, add and delete users, and see the
 * totals. The last active admin is never offered for demotion, deactivation or deletion.
 */
export default function Users() {
  const me = useCurrentUser();
  const isAdmin = me.role === "admin";
  const { params, page, setFilters } = useAddressFilters();
  const role = ROLES.find((r) => r === params.get("role"));
  const active = params.get("active");
  const [typed, setTyped] = useState(params.get("search") ?? "");
  const search = useDebounced(typed.trim(), 300);

  useEffect(() => {
    // Only a pause in typing changes the address (not going back to another search), and
    // it replaces the current entry rather than adding one per word.
    if (search !== (params.get("search") ?? "")) setFilters({ search }, { replace: true });
  }, [search]);

  const users = useUsers({
    search: params.get("search") || undefined,
    role,
    is_active: active === "yes" ? true : active === "no" ? false : undefined,
    ...page,
  });
  const admins = useActiveAdminCount(isAdmin);

  return (
    <section>
      <PageHeading>Users</PageHeading>
      {isAdmin && <UserStats />}
      {isAdmin && <CreateUser />}
      <div className="filters" role="search" aria-label="Filter users">
        <TextField
          label="Search users"
          name="search"
          type="search"
          value={typed}
          hint="Part of a username or e-mail"
          onChange={(event) => setTyped(event.target.value)}
        />
        <FilterSelect
          label="Filter by role"
          name="role"
          any="Any role"
          options={isAdmin ? ROLES : ROLES.filter((r) => r !== "admin")}
        />
        <FilterSelect
          label="Filter by status"
          name="active"
          any="Active or not"
          options={[
            { value: "yes", label: "Active" },
            { value: "no", label: "Inactive" },
          ]}
        />
      </div>
      <p className="muted" aria-live="polite">
        {users.data ? plural(users.data.total, "user") : "Loading users…"}
        {!isAdmin && " (admins are not listed for moderators)"}
      </p>
      <PagedList label="Users" page={users.data}>
        {(user) => (
          <UserRow
            key={user.id}
            user={user}
            may={userActions(me, user, isAdmin ? admins.data : undefined)}
          />
        )}
      </PagedList>
    </section>
  );
}

function CreateUser() {
  const create = useCreateUser();
  return (
    <CreatePanel
      label="Add a user"
      mutation={create}
      bodyOf={(form) => ({
        username: String(form.get("username") ?? ""),
        email: String(form.get("email") ?? ""),
        password: String(form.get("password") ?? ""),
        role: ROLES.find((r) => r === form.get("role")) ?? "user",
      })}
      saying={(user) => `Added ${user.username} (${user.role}).`}
      fieldsShown={["username", "email", "password", "role"]}
      submitLabel="Add user"
    >
      <TextField label="Username" name="username" required autoComplete="off" />
      <TextField label="E-mail" name="email" type="email" required autoComplete="off" />
      <PasswordField label="Password" name="password" isNew />
      <SelectField label="Role" name="role" defaultValue="user" options={ROLES} />
    </CreatePanel>
  );
}
