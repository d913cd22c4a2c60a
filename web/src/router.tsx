/**
 * The router, built from the route table (`routes.ts`). Pages are lazy components, so a
 * page's code is fetched only when someone who may see it opens it.
 */
import { lazy } from "react";
import { createBrowserRouter, type RouteObject } from "react-router";
import { RequireAuth } from "./auth/RequireAuth";
import { Layout } from "./components/Layout";
import { NotFound } from "./components/NotFound";
import { RouteError } from "./components/RouteError";
import { routes, type PageRoute } from "./routes";

function toRouteObject(route: PageRoute): RouteObject {
  const Page = lazy(route.load);
  return {
    path: route.path,
    element: route.public ? (
      <Page />
    ) : (
      <RequireAuth minRole={route.minRole}>
        <Page />
      </RequireAuth>
    ),
  };
}

export function createRouter() {
  return createBrowserRouter([
    {
      element: <Layout />,
      errorElement: <RouteError />,
      children: [...routes.map(toRouteObject), { path: "*", element: <NotFound /> }],
    },
  ]);
}
