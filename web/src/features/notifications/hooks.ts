/** The caller's notifications: the list, the unread count (the navigation's badge), marking read. */
import { useQuery } from "@tanstack/react-query";
import { api, call, callPage, callVoid, type Schema } from "../../api/client";
import { listQueryHook, refreshEvery, useInvalidatingMutation } from "../../api/queries";
import { queryKeys } from "../../api/queryKeys";

export type Notification = Schema<"NotificationOut">;

/** How often the unread count is asked again while the tab is visible. */
export const UNREAD_REFRESH_MS = 30_000;

/** How many are unread: one row asked for, the total read from `X-Total-Count`. */
export async function fetchUnreadCount(): Promise<number> {
  const page = await callPage(
    api.GET("/api/v1/notifications", { params: { query: { unread_only: true, limit: 1 } } }),
  );
  return page.total;
}

/** The unread count; a failure shows no badge rather than breaking the page around it. */
export function useUnreadCount() {
  return useQuery({
    queryKey: queryKeys.notifications.unreadCount,
    queryFn: fetchUnreadCount,
    ...refreshEvery(UNREAD_REFRESH_MS),
    throwOnError: false,
  });
}

export const useNotifications = listQueryHook(
  "/api/v1/notifications",
  queryKeys.notifications.list,
  refreshEvery(UNREAD_REFRESH_MS),
);

/** Marking read changes the list and the unread count: both are read again. */
export function useMarkRead() {
  return useInvalidatingMutation([queryKeys.notifications.all], (notificationId: string) =>
    call(
      api.POST("/api/v1/notifications/{notification_id}/read", {
        params: { path: { notification_id: notificationId } },
      }),
    ),
  );
}

export function useMarkAllRead() {
  return useInvalidatingMutation([queryKeys.notifications.all], () =>
    callVoid(api.POST("/api/v1/notifications/read-all")),
  );
}

/** The note a notification is about, if any (`note_shared` carries its id). */
export function noteIdOf(notification: Notification): string | null {
  const id = notification.data["note_id"];
  return typeof id === "string" && id !== "" ? id : null;
}
