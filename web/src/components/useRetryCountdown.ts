import { useEffect, useState } from "react";
import { isApiError } from "../api/errors";

/**
 * Seconds left before a throttled (429) action may be retried, counting down; 0 when the
 * error is not a throttle or the wait is over. Forms disable their submit button meanwhile.
 */
export function useRetryCountdown(error: unknown): number {
  const seconds = isApiError(error) && error.status === 429 ? error.retryAfterSeconds : null;
  const [left, setLeft] = useState(seconds ?? 0);
  useEffect(() => {
    if (seconds === null) {
      setLeft(0);
      return;
    }
    const until = Date.now() + seconds * 1000;
    setLeft(seconds);
    const timer = window.setInterval(() => {
      const remaining = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setLeft(remaining);
      if (remaining === 0) window.clearInterval(timer);
    }, 1000);
    return () => window.clearInterval(timer);
  }, [error, seconds]);
  return left;
}
