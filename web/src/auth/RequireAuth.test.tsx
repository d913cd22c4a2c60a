import { QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createMemoryRouter, RouterProvider, useLocation } from "react-router";
import { ApiError } from "../api/errors";
import { createQueryClient } from "../api/queryClient";
import { queryKeys } from "../api/queryKeys";
import { RequireAuth } from "./RequireAuth";
import type { Me } from "./session";

afterEach(cleanup);

function SignInProbe() {
  const location = useLocation();
  return <p>sign-in page, next={new URLSearchParams(location.search).get("next")}</p>;
}

function renderAt(path: string, me: Me | null) {
  const queryClient = createQueryClient(() => {});
  queryClient.setQueryData(queryKeys.me, me);
  const router = createMemoryRouter(
    [
      { path: "/sign-in", element: <SignInProbe /> },
      { path: "/profile", element: <RequireAuth minRole="user">profile page</RequireAuth> },
      { path: "/tasks", element: <RequireAuth minRole="user">tasks page</RequireAuth> },
      { path: "/admin", element: <RequireAuth minRole="admin">admin page</RequireAuth> },
    ],
    { initialEntries: [path] },
  );
  render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}

const user: Me = {
  id: "1",
  username: "ada",
  email: "ada@example.com",
  role: "user",
  password_change_required: false,
};

describe("RequireAuth", () => {
  it("sends a signed-out visitor to sign in, remembering the whole address", async () => {
    renderAt("/tasks?status=failed", null);
    expect(await screen.findByText("sign-in page, next=/tasks?status=failed")).toBeTruthy();
  });

  it("shows the page to a role that may see it", async () => {
    renderAt("/tasks", user);
    expect(await screen.findByText("tasks page")).toBeTruthy();
  });

  it("answers 'not found' to a role that may not see the page", async () => {
    renderAt("/admin", user);
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeTruthy();
    expect(screen.queryByText("admin page")).toBeNull();
  });

  it("keeps a user whose password must change on the profile page", async () => {
    renderAt("/tasks", { ...user, password_change_required: true });
    expect(await screen.findByText("profile page")).toBeTruthy();
  });
});

describe("a 401 from any query", () => {
  it("calls the sign-in redirect, except where the caller handles it", async () => {
    const onUnauthorized = vi.fn();
    const queryClient = createQueryClient(onUnauthorized);
    const expired = () =>
      Promise.reject(new ApiError({ status: 401, code: "UNAUTHORIZED", message: "x" }));

    await queryClient
      .fetchQuery({ queryKey: ["handled"], queryFn: expired, meta: { handlesUnauthorized: true } })
      .catch(() => {});
    expect(onUnauthorized).not.toHaveBeenCalled();

    await queryClient.fetchQuery({ queryKey: ["tasks"], queryFn: expired }).catch(() => {});
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });
});
