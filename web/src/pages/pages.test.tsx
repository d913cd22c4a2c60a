/**
 * Every page of the route table renders its heading for a signed-in user, with the API
 * answered by a stand-in that returns envelopes of the documented shapes. (The real server
 * and a real browser are exercised by the Playwright tests in the Python suite.)
 */
import { QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RouterProvider } from "react-router";
import { createQueryClient } from "../api/queryClient";
import { createRouter } from "../router";

const task = {
  id: "11111111-1111-1111-1111-111111111111",
  task_type: "delay_task",
  status: "failed",
  priority: "normal",
  payload: { delay_seconds: 1 },
  result: null,
  max_attempts: 3,
  current_attempt: 3,
  last_error: "boom",
  error_history: [{ attempt: 1, error: "boom", at: "2025-01-01T00:00:00Z", worker: "w1" }],
  created_at: "2025-01-01T00:00:00Z",
  updated_at: "2025-01-01T00:00:00Z",
  scheduled_at: "2025-01-01T00:00:00Z",
  started_at: null,
  completed_at: null,
  cancel_requested_at: null,
  created_by: null,
  metadata: {},
  retry_strategy: {},
};

const answers: Record<string, unknown> = {
  "/api/v1/auth/me": {
    id: "1",
    username: "ada",
    email: "a@x.org",
    role: "user",
    password_change_required: false,
  },
  "/api/v1/health": { status: "healthy", version: "1", uptime: 5, documentation: {} },
  "/api/v1/tasks": [task],
  [`/api/v1/tasks/${task.id}`]: task,
  "/api/v1/tasks/types": [
    {
      task_type: "delay_task",
      description: "Sleep",
      is_active: true,
      min_role: "user",
      payload_schema: null,
    },
  ],
  "/api/v1/notifications": [],
  "/api/v1/users/me/profile": {
    id: "1",
    username: "ada",
    email: "a@x.org",
    role: "user",
    is_active: true,
    email_verified: false,
    created_at: "2025-01-01T00:00:00Z",
    last_login_at: null,
  },
  "/api/v1/api-keys": [],
  "/api/v1/monitoring/metrics": [
    {
      id: "22222222-2222-2222-2222-222222222222",
      name: "ada_clicks",
      metric_type: "counter",
      value: 3,
      labels: { page: "home" },
      recorded_at: "2025-01-01T00:00:00Z",
      created_by: "1",
    },
  ],
};

beforeEach(() => {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (!(path in answers)) {
        return Response.json({ error: { code: "NOT_FOUND", message: path } }, { status: 404 });
      }
      const data = answers[path];
      const headers = Array.isArray(data) ? { "X-Total-Count": String(data.length) } : undefined;
      return Response.json({ success: true, data, message: null }, { headers });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderApp(path: string) {
  window.history.pushState({}, "", path);
  const queryClient = createQueryClient(() => {});
  render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={createRouter()} />
    </QueryClientProvider>,
  );
}

describe.each([
  ["/", "Dashboard"],
  ["/tasks", "Tasks"],
  ["/tasks/new", "Create a task"],
  [`/tasks/${task.id}`, "Task: delay_task"],
  ["/profile", "Profile"],
  ["/monitoring/metrics", "Monitoring metrics"],
  ["/no-such-page", "Page not found"],
])("%s", (path, heading) => {
  it(`shows "${heading}"`, async () => {
    renderApp(path);
    expect(await screen.findByRole("heading", { level: 1, name: heading })).toBeTruthy();
    expect(screen.queryByText("This could not be shown")).toBeNull();
  });
});

describe("the metrics page", () => {
  it("lists a stored sample with its label as a filter, and no totals link for a user", async () => {
    renderApp("/monitoring/metrics");
    expect(await screen.findByRole("button", { name: "Filter by label page:home" })).toBeTruthy();
    expect(screen.getByText("ada_clicks")).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Totals" })).toBeNull();
  });

  it("hides the totals page from a plain user", async () => {
    renderApp("/monitoring/stats");
    expect(await screen.findByRole("heading", { level: 1, name: "Page not found" })).toBeTruthy();
  });
});

describe("the layout", () => {
  it("offers the user's navigation and no sign-in link", async () => {
    renderApp("/");
    const nav = await screen.findByRole("navigation", { name: "Main" });
    expect(await screen.findByRole("link", { name: "Tasks" })).toBeTruthy();
    expect(nav.textContent).not.toContain("Sign in");
  });

  it("shows a task's error history and the actions its status allows", async () => {
    renderApp(`/tasks/${task.id}`);
    expect(await screen.findByRole("button", { name: "Retry task" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Cancel task" })).toBeNull();
    expect(screen.getByText(/Attempt 1/)).toBeTruthy();
  });
});
