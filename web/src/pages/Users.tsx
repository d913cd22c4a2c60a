import { useEffect, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useCurrentUser } from "../auth/session";
import type { Role } from "../auth/roles";
import { ErrorMessage } from "../components/ErrorMessage";
import { fieldErrorOf, SelectField, TextField } from "../components/Field";
import { PageHeading } from "../components/PageHeading";
import { Pagination } from "../components/Pagination";
import { useDebounced } from "../components/useDebounced";
import { useActiveAdminCount, useCreateUser, useUsers } from "../features/admin/hooks";
import { userActions } from "../features/admin/permissions";
import { UserRow } from "../features/admin/UserRow";
import { UserStats } from "../features/admin/UserStats";

const PAGE_SIZE = 20;
const ROLES: readonly Role[] = ["user", "moderator", "admin"];

/**
 * Users, for staff. Moderators see and act on plain users (activate, deactivate, reset a
 * password); admins also change roles, edit profiles, add and delete users, and see the
 * totals. The last active admin is never offered for demotion, deactivation or deletion.
 */
export default function Users() {
  const me = useCurrentUser();
  const isAdmin = me.role === "admin";
  const [params, setParams] = useSearchParams();
  const role = ROLES.find((r) => r === params.get("role"));
  const active = params.get("active");
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const [typed, setTyped] = useState(params.get("search") ?? "");
  const search = useDebounced(typed.trim(), 300);

  function setParam(name: string, value: string) {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value) next.set(name, value);
        else next.delete(name);
        if (name !== "offset") next.delete("offset");
        return next;
      },
      { replace: name === "search" },
    );
  }
  useEffect(() => {
    if (search !== (params.get("search") ?? "")) setParam("search", search);
    // Only a pause in typing changes the address (not going back to another search).
  }, [search]);

  const users = useUsers({
    search: params.get("search") || undefined,
    role,
    is_active: active === "yes" ? true : active === "no" ? false : undefined,
    limit: PAGE_SIZE,
    offset,
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
        <SelectField
          label="Filter by role"
          name="role"
          value={role ?? ""}
          onChange={(event) => setParam("role", event.target.value)}
          options={[
            { value: "", label: "Any role" },
            ...(isAdmin ? ROLES : ROLES.filter((r) => r !== "admin")),
          ]}
        />
        <SelectField
          label="Filter by status"
          name="active"
          value={active ?? ""}
          onChange={(event) => setParam("active", event.target.value)}
          options={[
            { value: "", label: "Active or not" },
            { value: "yes", label: "Active" },
            { value: "no", label: "Inactive" },
          ]}
        />
      </div>
      <p className="muted" aria-live="polite">
        {users.data
          ? `${users.data.total} user${users.data.total === 1 ? "" : "s"}`
          : "Loading users…"}
        {!isAdmin && " (admins are not listed for moderators)"}
      </p>
      {users.data && users.data.items.length > 0 && (
        <ul className="item-list" aria-label="Users">
          {users.data.items.map((user) => (
            <UserRow
              key={user.id}
              user={user}
              may={userActions(me, user, isAdmin ? admins.data : undefined)}
            />
          ))}
        </ul>
      )}
      {users.data && users.data.total > PAGE_SIZE && (
        <Pagination
          label="User pages"
          total={users.data.total}
          limit={PAGE_SIZE}
          offset={offset}
          onOffsetChange={(value) => setParam("offset", value ? String(value) : "")}
        />
      )}
    </section>
  );
}

function CreateUser() {
  const create = useCreateUser();
  const [created, setCreated] = useState<string | null>(null);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setCreated(null);
    create.mutate(
      {
        username: String(form.get("username") ?? ""),
        email: String(form.get("email") ?? ""),
        password: String(form.get("password") ?? ""),
        role: ROLES.find((r) => r === form.get("role")) ?? "user",
      },
      {
        onSuccess: (user) => {
          setCreated(`Added ${user.username} (${user.role}).`);
          formElement.reset();
        },
      },
    );
  }
  const fields = ["username", "email", "password", "role"];
  return (
    <details className="panel">
      <summary>Add a user</summary>
      <form onSubmit={submit} noValidate aria-label="Add a user">
        <ErrorMessage error={create.error} fieldsShown={fields} />
        {created && (
          <p className="notice" role="status">
            {created}
          </p>
        )}
        <TextField
          label="Username"
          name="username"
          required
          autoComplete="off"
          error={fieldErrorOf(create.error, "username")}
        />
        <TextField
          label="E-mail"
          name="email"
          type="email"
          required
          autoComplete="off"
          error={fieldErrorOf(create.error, "email")}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          required
          autoComplete="new-password"
          error={fieldErrorOf(create.error, "password")}
        />
        <SelectField
          label="Role"
          name="role"
          defaultValue="user"
          options={ROLES}
          error={fieldErrorOf(create.error, "role")}
        />
        <button type="submit" disabled={create.isPending}>
          Add user
        </button>
      </form>
    </details>
  );
}
