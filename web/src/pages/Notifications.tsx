import { Link, useSearchParams } from "react-router";
import { ErrorMessage } from "../components/ErrorMessage";
import { CheckboxField } from "../components/Field";
import { PageHeading } from "../components/PageHeading";
import { Pagination } from "../components/Pagination";
import {
  noteIdOf,
  useMarkAllRead,
  useMarkRead,
  useNotifications,
  type Notification,
} from "../features/notifications/hooks";

const PAGE_SIZE = 20;

/** My notifications, newest first: mark one or all read; open the note one is about. */
export default function Notifications() {
  const [params, setParams] = useSearchParams();
  const unreadOnly = params.get("unread") === "1";
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const list = useNotifications({ unread_only: unreadOnly, limit: PAGE_SIZE, offset });
  const markAll = useMarkAllRead();

  function setParam(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== "offset") next.delete("offset");
    setParams(next);
  }

  const items = list.data?.items ?? [];
  return (
    <section>
      <PageHeading>Notifications</PageHeading>
      <div className="actions">
        <CheckboxField
          label="Unread only"
          name="unread_only"
          checked={unreadOnly}
          onChange={(event) => setParam("unread", event.target.checked ? "1" : "")}
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
      {list.data && items.length === 0 && (
        <p>{unreadOnly ? "Nothing unread." : "No notifications yet."}</p>
      )}
      {items.length > 0 && (
        <ul className="item-list" aria-label="Notifications">
          {items.map((notification) => (
            <NotificationItem key={notification.id} notification={notification} />
          ))}
        </ul>
      )}
      {list.data && list.data.total > PAGE_SIZE && (
        <Pagination
          label="Notification pages"
          total={list.data.total}
          limit={PAGE_SIZE}
          offset={offset}
          onOffsetChange={(value) => setParam("offset", value ? String(value) : "")}
        />
      )}
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
      <p className="muted small">
        <time dateTime={notification.created_at}>{new Date(notification.created_at).toLocaleString()}</time>
      </p>
      <div className="actions">
        {noteId && (
          <Link
            to={`/notes/${noteId}`}
            onClick={() => unread && markRead.mutate(notification.id)}
          >
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
