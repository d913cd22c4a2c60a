import { Link } from "react-router";
import { ErrorMessage } from "../components/ErrorMessage";
import { CheckboxField } from "../components/Field";
import { when } from "../components/format";
import { PageHeading } from "../components/PageHeading";
import { PagedList } from "../components/PagedList";
import { useAddressFilters } from "../components/useAddressFilters";
import {
  noteIdOf,
  useMarkAllRead,
  useMarkRead,
  useNotifications,
  type Notification,
} from "../features/notifications/hooks";

/** My notifications, newest first: mark one or all read; open the note one is about. */
export default function Notifications() {
  const { params, page, setFilter } = useAddressFilters();
  const unreadOnly = params.get("unread") === "1";
  const list = useNotifications({ unread_only: unreadOnly, ...page });
  const markAll = useMarkAllRead();
  const items = list.data?.items ?? [];
  return (
    <section>
      <PageHeading>Notifications</PageHeading>
      <div className="actions">
        <CheckboxField
          label="Unread only"
          name="unread_only"
          checked={unreadOnly}
          onChange={(event) => setFilter("unread", event.target.checked ? "1" : "")}
        />
        <button
          type="button"
          className="secondary"
          disabled={markAll.isPending || items.every((n) => n.read_at !== null)}
          onClick={() => markAll.mutate()}
        >
          Mark all as read
        </button>
      </div>
      <ErrorMessage error={markAll.error} />
      <PagedList
        label="Notifications"
        page={list.data}
        empty={unreadOnly ? "Nothing unread." : "No notifications yet."}
      >
        {(notification) => <NotificationItem key={notification.id} notification={notification} />}
      </PagedList>
    </section>
  );
}

function NotificationItem({ notification }: { notification: Notification }) {
  const markRead = useMarkRead();
  const unread = notification.read_at === null;
  const noteId = noteIdOf(notification);
  return (
    <li className={unread ? "item unread" : "item"}>
      <p className="item-title">
        {unread && <span className="tag">unread</span>} {notification.title}
      </p>
      <p>{notification.body}</p>
      <p className="muted small">{when(notification.created_at)}</p>
      <div className="actions">
        {noteId && (
          <Link to={`/notes/${noteId}`} onClick={() => unread && markRead.mutate(notification.id)}>
            Open the note
          </Link>
        )}
        {unread && (
          <button
            type="button"
            className="secondary"
            disabled={markRead.isPending}
            aria-label={`Mark “${notification.title}” as read`}
            onClick={() => markRead.mutate(notification.id)}
          >
            Mark as read
          </button>
        )}
      </div>
      <ErrorMessage error={markRead.error} />
    </li>
  );
}
