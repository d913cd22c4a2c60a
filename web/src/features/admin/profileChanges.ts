/**
 * An admin's edit of a user's profile → the request body: only the fields that changed, so
 * the request says what the admin did. `null` when nothing changed: no request at all.
 * (A new email is unverified unless the admin also ticks "verified": the API's rule.)
 */
import type { Schema } from "../../api/client";

export interface ProfileFields {
  username: string;
  email: string;
  email_verified: boolean;
}

export function profileChanges(
  before: ProfileFields,
  typed: ProfileFields,
): Schema<"AdminUpdateProfile"> | null {
  const body: Schema<"AdminUpdateProfile"> = {};
  const username = typed.username.trim();
  const email = typed.email.trim();
  if (username !== before.username) body.username = username;
  if (email.toLowerCase() !== before.email.toLowerCase()) body.email = email;
  if (typed.email_verified !== before.email_verified) body.email_verified = typed.email_verified;
  return Object.keys(body).length > 0 ? body : null;
}
