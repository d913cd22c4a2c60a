import { useState } from "react";
import { useNavigate } from "react-router";
import { isUnauthorized } from "../api/errors";
import { useCurrentUser, useLogout } from "../auth/session";
import { DescriptionList } from "../components/DescriptionList";
import { ErrorMessage } from "../components/ErrorMessage";
import { PasswordField, TextField } from "../components/Field";
import { Form, PanelForm } from "../components/Form";
import { PageHeading } from "../components/PageHeading";
import type { UserProfile } from "../features/admin/hooks";
import { ProfileFields } from "../features/admin/ProfileFields";
import {
  useApiKeys,
  useChangePassword,
  useCreateApiKey,
  useDeleteAccount,
  useProfile,
  useRevokeApiKey,
  useUpdateOwnProfile,
} from "../features/account/hooks";
import { profileChanges } from "../features/admin/profileChanges";

/** My account: details, password, API keys, sign out everywhere, delete. */
export default function Profile() {
  const me = useCurrentUser();
  return (
    <section>
      <PageHeading>Profile</PageHeading>
      {me.password_change_required && (
        <p className="notice" role="status">
          Your password was reset by staff: choose a new one below before using the app.
        </p>
      )}
      {!me.password_change_required && <Details />}
      <ChangePassword />
      {!me.password_change_required && <ApiKeys />}
      <Sessions />
      {!me.password_change_required && <DeleteAccount />}
    </section>
  );
}

function Details() {
  const { data: profile } = useProfile();
  if (!profile) return null;
  return (
    <>
      <DescriptionList
        items={{
          Username: profile.username,
          "E-mail": `${profile.email} ${profile.email_verified ? "(verified)" : "(not verified)"}`,
          Role: profile.role,
          "Member since": new Date(profile.created_at).toLocaleDateString(),
        }}
      />
      <EditDetails profile={profile} />
    </>
  );
}

/** Change the username or e-mail: only what changed is sent (same rule as the admin's form). */
function EditDetails({ profile }: { profile: UserProfile }) {
  const update = useUpdateOwnProfile();
  const [saved, setSaved] = useState<string | null>(null);
  function submit(form: FormData) {
    const changes = profileChanges(profile, {
      username: String(form.get("username") ?? ""),
      email: String(form.get("email") ?? ""),
      email_verified: profile.email_verified,
    });
    if (changes === null) {
      setSaved("Nothing changed.");
      return;
    }
    setSaved(null);
    // The verified mark was passed unchanged, so only username and e-mail can be in it.
    const { username, email } = changes;
    update.mutate(
      { ...(username !== undefined && { username }), ...(email !== undefined && { email }) },
      { onSuccess: () => setSaved("Saved.") },
    );
  }
  return (
    <PanelForm
      label="Change username or e-mail"
      onSubmit={submit}
      error={update.error}
      fieldsShown={["username", "email"]}
      notice={saved}
    >
      <ProfileFields profile={profile} own />
      <button type="submit" disabled={update.isPending}>
        Save details
      </button>
    </PanelForm>
  );
}

function ChangePassword() {
  const me = useCurrentUser();
  const change = useChangePassword();
  function onSubmit(form: FormData, formElement: HTMLFormElement) {
    change.mutate(
      {
        current_password: String(form.get("current_password") ?? ""),
        new_password: String(form.get("new_password") ?? ""),
      },
      { onSuccess: () => formElement.reset() },
    );
  }
  const wrongCurrent = isUnauthorized(change.error);
  return (
    <>
      <h2>Change password</h2>
      <Form
        label="Change password"
        onSubmit={onSubmit}
        error={change.error}
        fieldsShown={["current_password", "new_password"]}
        notice={
          change.isSuccess &&
          "Password changed. Your other sessions were ended and your API keys revoked."
        }
      >
        {/* For password managers: which account this password belongs to. */}
        <input
          type="text"
          name="username"
          autoComplete="username"
          value={me.username}
          readOnly
          hidden
        />
        <PasswordField
          label="Current password"
          name="current_password"
          error={wrongCurrent ? "This is not your current password." : undefined}
        />
        <PasswordField label="New password" name="new_password" isNew />
        <button type="submit" disabled={change.isPending}>
          Change password
        </button>
      </Form>
    </>
  );
}

function ApiKeys() {
  const { data: keys } = useApiKeys();
  const create = useCreateApiKey();
  const revoke = useRevokeApiKey();
  const [copied, setCopied] = useState(false);
  // The new key lives only in this component's state: shown once, gone on navigation.
  const created = create.data;

  function onSubmit(form: FormData, formElement: HTMLFormElement) {
    const days = Number(form.get("expires_in_days"));
    setCopied(false);
    create.mutate(
      { name: String(form.get("name") ?? ""), expires_in_days: days > 0 ? days : null },
      { onSuccess: () => formElement.reset() },
    );
  }

  async function copy(key: string) {
    await navigator.clipboard.writeText(key);
    setCopied(true);
  }

  return (
    <>
      <h2>API keys</h2>
      <p className="muted">
        For scripts: send a key as <code>X-API-Key</code> or <code>Authorization: Bearer</code>.
      </p>
      {created && (
        <div className="notice" role="status">
          <p>
            Your new key <strong>{created.name}</strong>. Copy it now: it is not shown again.
          </p>
          <code className="secret" aria-label="New API key">
            {created.key}
          </code>
          <div className="actions">
            <button type="button" onClick={() => void copy(created.key)}>
              Copy key
            </button>
            {copied && <span>Copied.</span>}
            <button type="button" className="secondary" onClick={() => create.reset()}>
              I have stored it
            </button>
          </div>
        </div>
      )}
      <Form
        label="Create an API key"
        onSubmit={onSubmit}
        error={create.error}
        fieldsShown={["name", "expires_in_days"]}
      >
        <TextField label="Key name" name="name" required />
        <TextField
          label="Expires after (days)"
          name="expires_in_days"
          type="number"
          min={1}
          max={3650}
          hint="Leave empty for a key that does not expire."
        />
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </Form>
      <ErrorMessage error={revoke.error} />
      {keys && keys.length === 0 && <p>No API keys.</p>}
      {keys && keys.length > 0 && (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col" className="wide-only">
                  Last used
                </th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td>
                    <code>{key.key_prefix}…</code>
                  </td>
                  <td className="wide-only">
                    {key.last_used_at ? new Date(key.last_used_at).toLocaleString() : "never"}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Revoke key ${key.name}`}
                      disabled={revoke.isPending}
                      onClick={() => revoke.mutate(key.id)}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Sessions() {
  const logout = useLogout();
  const navigate = useNavigate();
  return (
    <>
      <h2>Sessions</h2>
      <p>
        Signing out everywhere ends every session of yours, on every device, and revokes your API
        keys.
      </p>
      <ErrorMessage error={logout.error} />
      <button
        type="button"
        className="secondary"
        disabled={logout.isPending}
        onClick={() => logout.mutate(true, { onSettled: () => navigate("/sign-in") })}
      >
        Sign out everywhere
      </button>
    </>
  );
}

function DeleteAccount() {
  const remove = useDeleteAccount();
  const navigate = useNavigate();
  function onSubmit(form: FormData) {
    remove.mutate(
      {
        password: String(form.get("password") ?? ""),
        confirmation: String(form.get("confirmation") ?? "") as "DELETE",
      },
      { onSuccess: () => navigate("/register", { replace: true }) },
    );
  }
  return (
    <>
      <h2>Delete account</h2>
      <p>This deletes your account and signs you out. It cannot be undone.</p>
      <Form
        label="Delete account"
        onSubmit={onSubmit}
        error={remove.error}
        fieldsShown={["password", "confirmation"]}
      >
        <PasswordField label="Password" name="password" />
        <TextField
          label='Type "DELETE" to confirm'
          name="confirmation"
          required
          autoComplete="off"
        />
        <button type="submit" className="danger" disabled={remove.isPending}>
          Delete my account
        </button>
      </Form>
    </>
  );
}
