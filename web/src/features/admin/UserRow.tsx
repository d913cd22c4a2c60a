import { useState, type FormEvent } from "react";
import { isApiError } from "../../api/errors";
import type { Role } from "../../auth/roles";
import { ErrorMessage } from "../../components/ErrorMessage";
import { CheckboxField, fieldErrorOf, SelectField, TextField } from "../../components/Field";
import { useResetPassword, useSetRole, useSetStatus, type UserProfile } from "./hooks";
import type { UserActions } from "./permissions";

/** A refusal of the state (409: the last admin, oneself) shown beside the control it concerns. */
function conflictOf(error: unknown): string | undefined {
  return isApiError(error) && error.status === 409 ? error.message : undefined;
}

/** One user for staff: details, and the actions `may` allows, each with its own errors. */
export function UserRow({ user, may }: { user: UserProfile; may: UserActions }) {
  const [resetting, setResetting] = useState(false);
  return (
    <li className="item">
      <h2 className="item-title">{user.username}</h2>
      <p>
        {user.email} · <span className="tag">{user.role}</span>{" "}
        <span className={user.is_active ? "tag" : "tag tag-warn"}>{user.is_active ? "active" : "inactive"}</span>
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
            aria-expanded={resetting}
            onClick={() => setResetting((open) => !open)}
          >
            Reset password<span className="visually-hidden"> of {user.username}</span>
          </button>
        )}
      </div>
      {resetting && <ResetPasswordForm user={user} onDone={() => setResetting(false)} />}
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
    <form onSubmit={submit} className="inline-form" aria-label={`Role of ${user.username}`}>
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
    if (user.is_active && !window.confirm(`Deactivate ${user.username}? Their sessions end at once.`)) return;
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
      <ErrorMessage error={reset.error} fieldsShown={["new_password", "reason"]} />
      <p className="muted small">Their sessions end and their API keys are revoked.</p>
      <TextField
        label="New password"
        name="new_password"
        type="password"
        autoComplete="new-password"
        required
        hint="8–128 characters with at least three of: lowercase, uppercase, digit, other."
        error={fieldErrorOf(reset.error, "new_password")}
      />
      <CheckboxField label="They must choose a new password at next sign-in" name="require_change" defaultChecked />
      <TextField label="Reason (optional, for the audit log)" name="reason" maxLength={500} error={fieldErrorOf(reset.error, "reason")} />
      <button type="submit" disabled={reset.isPending}>
        Set the new password
      </button>
    </form>
  );
}
