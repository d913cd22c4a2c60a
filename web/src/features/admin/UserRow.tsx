import { useState, type FormEvent } from "react";
import { isApiError } from "../../api/errors";
import type { Role } from "../../auth/roles";
import { ErrorMessage } from "../../components/ErrorMessage";
import { CheckboxField, fieldErrorOf, SelectField, TextField } from "../../components/Field";
import {
  useDeleteUser,
  useResetPassword,
  useSetRole,
  useSetStatus,
  useUpdateUserProfile,
  type UserProfile,
} from "./hooks";
import { profileChanges } from "./profileChanges";
import type { UserActions } from "./permissions";

/** A refusal of the state (409: the last admin, oneself) shown beside the control it concerns. */
function conflictOf(error: unknown): string | undefined {
  return isApiError(error) && error.status === 409 ? error.message : undefined;
}

/** One user for staff: details, and the actions `may` allows, each with its own errors. */
export function UserRow({ user, may }: { user: UserProfile; may: UserActions }) {
  const [open, setOpen] = useState<"reset" | "edit" | "delete" | null>(null);
  const toggle = (form: "reset" | "edit" | "delete") =>
    setOpen((current) => (current === form ? null : form));
  return (
    <li className="item">
      <h2 className="item-title">{user.username}</h2>
      <p>
        {user.email} · <span className="tag">{user.role}</span>{" "}
        <span className={user.is_active ? "tag" : "tag tag-warn"}>
          {user.is_active ? "active" : "inactive"}
        </span>
        {user.email_verified && <span className="tag"> email verified</span>}
        {user.password_change_required && <span className="tag"> must change password</span>}
      </p>
      <p className="muted small">
        Joined {new Date(user.created_at).toLocaleDateString()} · last sign-in{" "}
        {user.last_login_at ? new Date(user.last_login_at).toLocaleString() : "never"}
      </p>
      {may.note && <p className="muted small">{may.note}</p>}
      <div className="row-actions">
        {may.changeRole && <RoleForm user={user} roles={may.roles} />}
        {(may.activate || may.deactivate) && <StatusButton user={user} />}
        {may.resetPassword && (
          <button
            type="button"
            className="secondary"
            aria-expanded={open === "reset"}
            onClick={() => toggle("reset")}
          >
            Reset password<span className="visually-hidden"> of {user.username}</span>
          </button>
        )}
        {may.editProfile && (
          <button
            type="button"
            className="secondary"
            aria-expanded={open === "edit"}
            onClick={() => toggle("edit")}
          >
            Edit profile<span className="visually-hidden"> of {user.username}</span>
          </button>
        )}
        {may.delete && (
          <button
            type="button"
            className="danger"
            aria-expanded={open === "delete"}
            onClick={() => toggle("delete")}
          >
            Delete user<span className="visually-hidden"> {user.username}</span>
          </button>
        )}
      </div>
      {open === "reset" && <ResetPasswordForm user={user} onDone={() => setOpen(null)} />}
      {open === "edit" && <EditProfileForm user={user} onDone={() => setOpen(null)} />}
      {open === "delete" && <DeleteForm user={user} />}
    </li>
  );
}

function RoleForm({ user, roles }: { user: UserProfile; roles: Role[] }) {
  const setRole = useSetRole(user.id);
  const [role, setRoleValue] = useState<Role>(user.role);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setRole.mutate({ role });
  }
  const conflict = conflictOf(setRole.error);
  return (
    <form onSubmit={submit} className="inline-form">
      <SelectField
        label={`Role of ${user.username}`}
        name="role"
        value={role}
        options={roles}
        onChange={(event) => setRoleValue(event.target.value as Role)}
        error={conflict ?? fieldErrorOf(setRole.error, "role")}
      />
      <button type="submit" disabled={setRole.isPending || role === user.role}>
        Change role<span className="visually-hidden"> of {user.username}</span>
      </button>
      {!conflict && <ErrorMessage error={setRole.error} fieldsShown={["role"]} />}
    </form>
  );
}

function StatusButton({ user }: { user: UserProfile }) {
  const setStatus = useSetStatus(user.id);
  const verb = user.is_active ? "Deactivate" : "Activate";
  function toggle() {
    if (
      user.is_active &&
      !window.confirm(`Deactivate ${user.username}? Their sessions end at once.`)
    )
      return;
    setStatus.mutate({ is_active: !user.is_active });
  }
  return (
    <div className="inline-form">
      <button
        type="button"
        className={user.is_active ? "danger" : "secondary"}
        disabled={setStatus.isPending}
        onClick={toggle}
      >
        {verb}
        <span className="visually-hidden"> {user.username}</span>
      </button>
      <ErrorMessage error={setStatus.error} />
    </div>
  );
}

/** Soft delete by default; removing the row for good is a choice made on purpose. */
function DeleteForm({ user }: { user: UserProfile }) {
  const remove = useDeleteUser(user.id);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const hard = form.get("hard_delete") === "on";
    const reason = String(form.get("reason") ?? "").trim();
    const what = hard
      ? `Delete ${user.username} for good? The record is removed; this cannot be undone.`
      : `Delete ${user.username}? They can no longer sign in; the record stays for audit.`;
    if (!window.confirm(what)) return;
    remove.mutate({ hard_delete: hard, reason: reason || null });
  }
  return (
    <form onSubmit={submit} noValidate aria-label={`Delete ${user.username}`}>
      <ErrorMessage error={remove.error} fieldsShown={["reason"]} />
      <CheckboxField
        label="Remove the record for good (default: keep it for audit, signing in ends)"
        name="hard_delete"
      />
      <TextField
        label="Reason (optional, for the audit log)"
        name="reason"
        maxLength={500}
        error={fieldErrorOf(remove.error, "reason")}
      />
      <button type="submit" className="danger" disabled={remove.isPending}>
        Delete {user.username}
      </button>
    </form>
  );
}

/** An admin changes another user's username, email or verified mark. */
function EditProfileForm({ user, onDone }: { user: UserProfile; onDone: () => void }) {
  const update = useUpdateUserProfile(user.id);
  const [unchanged, setUnchanged] = useState(false);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = profileChanges(user, {
      username: String(form.get("username") ?? ""),
      email: String(form.get("email") ?? ""),
      email_verified: form.get("email_verified") === "on",
    });
    setUnchanged(body === null);
    if (body !== null) update.mutate(body, { onSuccess: onDone });
  }
  // A taken username or email (409) lands on its field too: the error chain maps the code.
  const error = update.error;
  return (
    <form onSubmit={submit} noValidate aria-label={`Edit the profile of ${user.username}`}>
      <ErrorMessage error={error} fieldsShown={["username", "email"]} />
      {unchanged && (
        <p className="notice" role="status">
          Nothing changed.
        </p>
      )}
      <TextField
        label="Username"
        name="username"
        defaultValue={user.username}
        required
        minLength={3}
        maxLength={50}
        autoComplete="off"
        error={fieldErrorOf(error, "username")}
      />
      <TextField
        label="Email"
        name="email"
        type="email"
        defaultValue={user.email}
        required
        autoComplete="off"
        hint="A new address is unverified unless you also tick the box below."
        error={fieldErrorOf(error, "email")}
      />
      <CheckboxField
        label="Email verified"
        name="email_verified"
        defaultChecked={user.email_verified}
      />
      <button type="submit" disabled={update.isPending}>
        Save profile<span className="visually-hidden"> of {user.username}</span>
      </button>
    </form>
  );
}

function ResetPasswordForm({ user, onDone }: { user: UserProfile; onDone: () => void }) {
  const reset = useResetPassword(user.id);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const reason = String(form.get("reason") ?? "").trim();
    reset.mutate(
      {
        new_password: String(form.get("new_password") ?? ""),
        require_change: form.get("require_change") === "on",
        reason: reason || null,
      },
      { onSuccess: onDone },
    );
  }
  return (
    <form onSubmit={submit} noValidate aria-label={`Reset the password of ${user.username}`}>
      {/* The password policy names the field `password` (not the body's `new_password`). */}
      <ErrorMessage error={reset.error} fieldsShown={["new_password", "password", "reason"]} />
      <p className="muted small">Their sessions end and their API keys are revoked.</p>
      <TextField
        label="New password"
        name="new_password"
        type="password"
        autoComplete="new-password"
        required
        hint="8–128 characters with at least three of: lowercase, uppercase, digit, other."
        error={fieldErrorOf(reset.error, "new_password") ?? fieldErrorOf(reset.error, "password")}
      />
      <CheckboxField
        label="Ask them to pick their own at next sign-in"
        name="require_change"
        defaultChecked
      />
      <TextField
        label="Reason (optional, for the audit log)"
        name="reason"
        maxLength={500}
        error={fieldErrorOf(reset.error, "reason")}
      />
      <button type="submit" disabled={reset.isPending}>
        Set the new password
      </button>
    </form>
  );
}
