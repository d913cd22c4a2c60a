/** The caller's notifications: the list, the unread count (the navigation's badge), marking read. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, call, callPage, callVoid, type Schema } from "../../api/client";
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
    refetchInterval: UNREAD_REFRESH_MS,
    refetchIntervalInBackground: false,
    throwOnError: false,
  });
}

export interface NotificationFilters {
  unread_only: boolean;
  limit: number;
  offset: number;
}

export function useNotifications(filters: NotificationFilters) {
  return useQuery({
    queryKey: queryKeys.notifications.list(filters),
    queryFn: () => callPage(api.GET("/api/v1/notifications", { params: { query: filters } })),
    placeholderData: keepPreviousData,
    refetchInterval: UNREAD_REFRESH_MS,
    refetchIntervalInBackground: false,
  });
}

export function useMarkRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (notificationId: string) =>
      call(
        api.POST("/api/v1/notifications/{notification_id}/read", {
          params: { path: { notification_id: notificationId } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.notifications.all }),
  });
}

export function useMarkAllRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => callVoid(api.POST("/api/v1/notifications/read-all")),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.notifications.all }),
  });
}

/** The note a notification is about, if any (`note_shared` carries its id). */
export function noteIdOf(notification: Notification): string | null {
  const id = notification.data["note_id"];
  return typeof id === "string" && id !== "" ? id : null;
}
