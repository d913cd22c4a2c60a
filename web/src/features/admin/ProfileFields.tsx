import { TextField } from "../../components/Field";
import type { UserProfile } from "./hooks";

/**
 * The username and e-mail inputs, filled with the current ones: on one's own profile
 * (`own`) the browser may fill them in; for another user (an admin's form) it must not.
 */
export function ProfileFields({ profile, own }: { profile: UserProfile; own: boolean }) {
  return (
    <>
      <TextField
        label={own ? "New username" : "Username"}
        name="username"
        defaultValue={profile.username}
        required
        minLength={3}
        maxLength={50}
        autoComplete={own ? "username" : "off"}
      />
      <TextField
        label={own ? "New e-mail" : "Email"}
        name="email"
        type="email"
        defaultValue={profile.email}
        required
        autoComplete={own ? "email" : "off"}
        hint={
          own
            ? "A new address has to be verified again."
            : "A new address is unverified unless you also tick the box below."
        }
      />
    </>
  );
}
