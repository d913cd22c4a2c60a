import { useUnreadCount } from "./hooks";

/**
 * The unread count beside "Notifications" in the navigation. Nothing when none are
 * unread; the number is read out as part of the link's name ("Notifications, 3 unread").
 */
export function UnreadBadge() {
  const { data: unread } = useUnreadCount();
  if (!unread) return null;
  const shown = unread > 99 ? "99+" : String(unread);
  return (
    <>
      <span className="badge" aria-hidden="true">
        {shown}
      </span>
      <span className="visually-hidden">, {unread} unread</span>
    </>
  );
}
