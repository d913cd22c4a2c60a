/**
 * Query keys in one place, so a mutation invalidates exactly the lists it changed.
 * Each feature adds its own group here (`notes`, `notifications`, `users`, …).
 */
export const queryKeys = {
  me: ["auth", "me"] as const,
  health: ["health"] as const,
  adminHealth: ["health", "admin"] as const,
  tasks: {
    all: ["tasks"] as const,
    list: (filters: object) => ["tasks", "list", filters] as const,
    countByStatus: (status: string) => ["tasks", "count", status] as const,
    detail: (id: string) => ["tasks", "detail", id] as const,
    types: ["tasks", "types"] as const,
    stats: ["tasks", "stats"] as const,
    deadLetter: (page: object) => ["tasks", "dead-letter", page] as const,
  },
  notes: {
    all: ["notes"] as const,
    lists: ["notes", "list"] as const,
    list: (filters: object) => ["notes", "list", filters] as const,
    detail: (id: string) => ["notes", "detail", id] as const,
    shares: (id: string) => ["notes", "shares", id] as const,
  },
  notifications: {
    all: ["notifications"] as const,
    unreadCount: ["notifications", "unread-count"] as const,
    list: (filters: object) => ["notifications", "list", filters] as const,
  },
  /** Staff views of other users (`profile` below is the caller's own). */
  users: {
    all: ["users", "staff"] as const,
    list: (filters: object) => ["users", "staff", "list", filters] as const,
    activeAdminCount: ["users", "staff", "active-admins"] as const,
    stats: ["users", "staff", "stats"] as const,
  },
  monitoring: {
    all: ["monitoring"] as const,
    events: (filters: object) => ["monitoring", "events", filters] as const,
    alerts: (filters: object) => ["monitoring", "alerts", filters] as const,
    incidents: (filters: object) => ["monitoring", "incidents", filters] as const,
    incident: (id: string) => ["monitoring", "incident", id] as const,
    timeline: (id: string) => ["monitoring", "incident", id, "timeline"] as const,
    metrics: (filters: object) => ["monitoring", "metrics", filters] as const,
    stats: ["monitoring", "stats"] as const,
  },
  profile: ["users", "me", "profile"] as const,
  apiKeys: ["api-keys"] as const,
};
