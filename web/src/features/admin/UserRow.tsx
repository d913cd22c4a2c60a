import { useState, type FormEvent } from "react";
import { isApiError } from "../../api/errors";
import type { Role } from "../../auth/roles";
import { ErrorMessage } from "../../components/ErrorMessage";
import {
  CheckboxField,
  fieldErrorOf,
  PasswordField,
  SelectField,
  TextField,
} from "../../components/Field";
import { ChangesForm, Form } from "../../components/Form";
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
import { ProfileFields } from "./ProfileFields";

/** A refusal of the state (409: the last admin, oneself) shown beside the control it concerns. */
function conflictOf(error: unknown): string | undefined {
  return isApiError(error) && error.status === 409 ? error.message : undefined;
}

/** The forms a row opens under it, and their buttons; screen readers hear whom each is about. */
const ROW_FORMS = [
  { form: "reset", text: "Reset password", about: "of ", className: "secondary" },
  { form: "edit", text: "Edit profile", about: "of ", className: "secondary" },
  { form: "delete", text: "Delete user", about: "", className: "danger" },
] as const;
type RowForm = (typeof ROW_FORMS)[number]["form"];

/** One user for staff: details, and the actions `may` allows, each with its own errors. */
export function UserRow({ user, may }: { user: UserProfile; may: UserActions }) {
  const [open, setOpen] = useState<RowForm | null>(null);
  const offered: Record<RowForm, boolean> = {
    reset: may.resetPassword,
    edit: may.editProfile,
    delete: may.delete,
  };
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
        {ROW_FORMS.filter(({ form }) => offered[form]).map(({ form, text, about, className }) => (
          <button
            key={form}
            type="button"
            className={className}
            aria-expanded={open === form}
            onClick={() => setOpen((current) => (current === form ? null : form))}
          >
            {text}
            <span className="visually-hidden">
              {" "}
              {about}
              {user.username}
            </span>
          </button>
        ))}
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
  function submit(form: FormData) {
    const hard = form.get("hard_delete") === "on";
    const reason = String(form.get("reason") ?? "").trim();
    const what = hard
      ? `Delete ${user.username} for good? The record is removed; this cannot be undone.`
      : `Delete ${user.username}? They can no longer sign in; the record stays for audit.`;
    if (!window.confirm(what)) return;
    remove.mutate({ hard_delete: hard, reason: reason || null });
  }
  return (
    <Form
      label={`Delete ${user.username}`}
      onSubmit={submit}
      error={remove.error}
      fieldsShown={["reason"]}
    >
      <CheckboxField
        label="Remove the record for good (default: keep it for audit, signing in ends)"
        name="hard_delete"
      />
      <ReasonField />
      <button type="submit" className="danger" disabled={remove.isPending}>
        Delete {user.username}
      </button>
    </Form>
  );
}

/** An admin changes another user's username, email or verified mark. */
function EditProfileForm({ user, onDone }: { user: UserProfile; onDone: () => void }) {
  const update = useUpdateUserProfile(user.id);
  // A taken username or email (409) lands on its field too: the error chain maps the code.
  return (
    <ChangesForm
      label={`Edit the profile of ${user.username}`}
      mutation={update}
      changesOf={(form) =>
        profileChanges(user, {
          username: String(form.get("username") ?? ""),
          email: String(form.get("email") ?? ""),
          email_verified: form.get("email_verified") === "on",
        })
      }
      onDone={onDone}
      fieldsShown={["username", "email"]}
    >
      <ProfileFields profile={user} own={false} />
      <CheckboxField
        label="Email verified"
        name="email_verified"
        defaultChecked={user.email_verified}
      />
      <button type="submit" disabled={update.isPending}>
        Save profile<span className="visually-hidden"> of {user.username}</span>
      </button>
    </ChangesForm>
  );
}

function ResetPasswordForm({ user, onDone }: { user: UserProfile; onDone: () => void }) {
  const reset = useResetPassword(user.id);
  function submit(form: FormData) {
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
    <Form
      label={`Reset the password of ${user.username}`}
      onSubmit={submit}
      error={reset.error}
      // The password policy names the field `password` (not the body's `new_password`).
      fieldsShown={["new_password", "password", "reason"]}
    >
      <p className="muted small">Their sessions end and their API keys are revoked.</p>
      <PasswordField
        label="New password"
        name="new_password"
        isNew
        error={fieldErrorOf(reset.error, "new_password") ?? fieldErrorOf(reset.error, "password")}
      />
      <CheckboxField
        label="Ask them to pick their own at next sign-in"
        name="require_change"
        defaultChecked
      />
      <ReasonField />
      <button type="submit" disabled={reset.isPending}>
        Set the new password
      </button>
    </Form>
  );
}

/** Why staff did it, kept in the audit log. */
function ReasonField() {
  return <TextField label="Reason (optional, for the audit log)" name="reason" maxLength={500} />;
}
