import { describeError, formatRetryAfter, isApiError } from "../api/errors";
import { useRetryCountdown } from "./useRetryCountdown";

/**
 * An error as a person reads it: the sentence from `describeError`, a live countdown for
 * a throttle, and — unless the form shows them next to its inputs (`fieldsShown`) — the
 * field problems as a list.
 */
export function ErrorMessage({
  error,
  fieldsShown = [],
}: {
  error: unknown;
  /** Field names the form renders itself; the others are listed here. */
  fieldsShown?: readonly string[];
}) {
  const retryIn = useRetryCountdown(error);
  if (!error) return null;
  const others = isApiError(error)
    ? Object.entries(error.fieldErrors).filter(([field]) => !fieldsShown.includes(field))
    : [];
  const throttled = isApiError(error) && error.status === 429;
  return (
    <div className="error-message" role="alert">
      <p>
        {throttled && retryIn > 0
          ? `Too many attempts. Try again ${formatRetryAfter(retryIn)}.`
          : throttled
            ? "You may try again now."
            : describeError(error)}
      </p>
      {others.length > 0 && (
        <ul>
          {others.map(([field, messages]) => (
            <li key={field}>
              <strong>{field}</strong>: {messages.join("; ")}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
