import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router";
import { createQueryClient } from "./api/queryClient";
import { SIGN_IN_PATH, signInPathFor } from "./auth/redirect";
import { signedOut } from "./auth/session";
import { createRouter } from "./router";
import "./styles.css";

const router = createRouter();

/** A 401 anywhere: forget the session and go to sign-in, remembering where we were. */
function onUnauthorized() {
  const here = router.state.location;
  signedOut(queryClient);
  if (here.pathname !== SIGN_IN_PATH) void router.navigate(signInPathFor(here), { replace: true });
}

const queryClient = createQueryClient(onUnauthorized);

const container = document.getElementById("root");
if (!container) throw new Error("index.html has no #root");
createRoot(container).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
