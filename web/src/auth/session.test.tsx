import { focusManager, QueryClientProvider } from "@tanstack/react-query";
import { renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/client";
import { createQueryClient } from "../api/queryClient";
import { ME_REFRESH_MS, useMe, type Me } from "./session";

afterEach(() => {
  vi.restoreAllMocks();
  focusManager.setFocused(undefined);
});

const morgan = (role: Me["role"]): Me => ({
  id: "1",
  username: "morgan",
  email: "morgan@example.com",
  role,
  password_change_required: false,
});

/** `GET /auth/me` answering each role in turn (an admin changes it between two reads). */
function meAnswers(...roles: Me["role"][]) {
  const answers = roles.map((role) => ({
    data: { success: true, data: morgan(role), message: "" },
    response: new Response(null, { status: 200 }),
  }));
  return vi
    .spyOn(api, "GET")
    .mockImplementation(
      () => Promise.resolve(answers.shift() ?? answers[answers.length - 1]) as never,
    );
}

describe("useMe", () => {
  it("reads the role again when the user comes back to the tab, though it is still fresh", async () => {
    const get = meAnswers("user", "moderator");
    const queryClient = createQueryClient(() => {});
    const { result, unmount } = renderHook(() => useMe(), {
      wrapper: ({ children }: { children: ReactNode }) => (
        <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
      ),
    });
    await waitFor(() => expect(result.current.data?.role).toBe("user"));

    focusManager.setFocused(false); // the user switches to another tab…
    focusManager.setFocused(true); // …and back, well within the staleTime

    await waitFor(() => expect(result.current.data?.role).toBe("moderator"));
    expect(get).toHaveBeenCalledTimes(2);
    unmount();
    expect(get.mock.calls.map((call) => (call as unknown[])[0])).toEqual([
      "/api/v1/auth/me",
      "/api/v1/auth/me",
    ]);
  });

  it("asks again every minute while the tab is visible", async () => {
    meAnswers("user");
    const queryClient = createQueryClient(() => {});
    const { result, unmount } = renderHook(() => useMe(), {
      wrapper: ({ children }: { children: ReactNode }) => (
        <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
      ),
    });
    const options = queryClient.getQueryCache().findAll({ queryKey: ["auth", "me"] })[0]
      ?.observers[0]?.options;
    expect(ME_REFRESH_MS).toBe(60_000);
    expect(options?.refetchInterval).toBe(ME_REFRESH_MS);
    expect(options?.refetchIntervalInBackground).toBe(false);
    await waitFor(() => expect(result.current.data?.role).toBe("user"));
    unmount();
  });
});
