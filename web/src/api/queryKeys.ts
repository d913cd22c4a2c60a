/**
 * Query keys in one place, so a mutation invalidates exactly the lists it changed.
 * Each feature adds its own group here (`notes`, `notifications`, `users`, …).
 */
export const queryKeys = {
  me: ["auth", "me"] as const,
  health: ["health"] as const,
  tasks: {
    all: ["tasks"] as const,
    list: (filters: object) => ["tasks", "list", filters] as const,
    countByStatus: (status: string) => ["tasks", "count", status] as const,
    detail: (id: string) => ["tasks", "detail", id] as const,
    types: ["tasks", "types"] as const,
  },
  notifications: {
    all: ["notifications"] as const,
    unreadCount: ["notifications", "unread-count"] as const,
  },
  profile: ["users", "me", "profile"] as const,
  apiKeys: ["api-keys"] as const,
};
