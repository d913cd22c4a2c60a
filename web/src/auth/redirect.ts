/**
 * Where to go after signing in, carried in the sign-in page's `?next=`.
 *
 * Only a path of this app is accepted: `//evil.example` or `https://…` in `next` would
 * otherwise turn the sign-in page into an open redirect.
 */
export const SIGN_IN_PATH = "/sign-in";

/** Paths a signed-out visitor may stay on; no point returning to them after sign-in. */
const PUBLIC_PATHS = new Set([SIGN_IN_PATH, "/register"]);

export function safeNext(next: string | null | undefined, fallback = "/"): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) {
    return fallback;
  }
  const pathname = next.split(/[?#]/, 1)[0] ?? "";
  return PUBLIC_PATHS.has(pathname) ? fallback : next;
}

/** `/sign-in?next=<where the user was>` for a location `{pathname, search, hash}`. */
export function signInPathFor(location: { pathname: string; search?: string; hash?: string }) {
  const here = `${location.pathname}${location.search ?? ""}${location.hash ?? ""}`;
  const next = safeNext(here, "");
  return next ? `${SIGN_IN_PATH}?${new URLSearchParams({ next }).toString()}` : SIGN_IN_PATH;
}
