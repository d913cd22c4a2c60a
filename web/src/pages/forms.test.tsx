/**
 * The write half of the error chain: a refused form shows the server's field problems next
 * to their inputs, and a throttled one says when to try again.
 */
import { QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, it, vi } from "vitest";
import { RouterProvider } from "react-router";
import { createQueryClient } from "../api/queryClient";
import { createRouter } from "../router";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** Signed out (`/auth/me` → 401); `answer` decides the form's POST. */
function serve(answer: (path: string) => Response) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/v1/auth/me") {
        return Response.json({ error: { code: "UNAUTHORIZED", message: "no" } }, { status: 401 });
      }
      return answer(path);
    }),
  );
}

function renderAt(path: string) {
  window.history.pushState({}, "", path);
  render(
    <QueryClientProvider client={createQueryClient(() => {})}>
      <RouterProvider router={createRouter()} />
    </QueryClientProvider>,
  );
}

it("shows a refused password next to the password field", async () => {
  serve(() =>
    Response.json(
      {
        error: {
          code: "VALIDATION_FAILED",
          message: "Request validation failed",
          details: [{ field: "password", message: "Password is on the list of common passwords" }],
        },
      },
      { status: 400 },
    ),
  );
  renderAt("/register");
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Username"), "ada");
  await user.type(screen.getByLabelText("E-mail"), "ada@example.com");
  await user.type(screen.getByLabelText("Password"), "Password1");
  await user.click(screen.getByRole("button", { name: "Create account" }));

  const password = await screen.findByLabelText("Password");
  await vi.waitFor(() => expect(password.getAttribute("aria-invalid")).toBe("true"));
  const describedBy = password.getAttribute("aria-describedby") ?? "";
  const description = describedBy
    .split(" ")
    .map((id) => document.getElementById(id)?.textContent)
    .join(" ");
  expect(description).toContain("Password is on the list of common passwords");
  expect(screen.getByRole("alert").textContent).toContain("Some fields need attention.");
  expect(screen.getByLabelText("Username").getAttribute("aria-invalid")).toBeNull();
});

it("says when a throttled sign-in may be tried again, and waits till then", async () => {
  serve(() =>
    Response.json(
      { error: { code: "RATE_LIMITED", message: "Too many login attempts" } },
      { status: 429, headers: { "Retry-After": "30" } },
    ),
  );
  renderAt("/sign-in");
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Username or e-mail"), "ada");
  await user.type(screen.getByLabelText("Password"), "wrong");
  await user.click(screen.getByRole("button", { name: "Sign in" }));

  expect((await screen.findByRole("alert")).textContent).toMatch(/Try again in (30|29) seconds/);
  expect((screen.getByRole("button", { name: "Sign in" }) as HTMLButtonElement).disabled).toBe(
    true,
  );
});
