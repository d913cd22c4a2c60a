/**
 * The one way the app talks to the API.
 *
 * `api` is an `openapi-fetch` client typed by `schema.d.ts`, which `npm run generate-types`
 * writes from the server's OpenAPI: paths, parameters, bodies and answers are checked by
 * `tsc`, and no request or response type is written by hand. The helpers below unwrap the
 * success envelope `{success, data, message}` and turn everything else into an `ApiError`,
 * so a query function is one line:
 *
 *     queryFn: () => call(api.GET("/api/v1/tasks/{task_id}", { params: { path: { task_id } } }))
 *
 * Authentication is the server's HttpOnly session cookie: page scripts never see the token,
 * `credentials: "same-origin"` sends it, and the browser adds `Origin` to unsafe requests,
 * which the server checks.
 */
import createClient from "openapi-fetch";
import { errorFromResponse, networkError } from "./errors";
import type { components, paths } from "./schema";

export const api = createClient<paths>({
  // The page's own origin (absolute, so the same code runs under Vitest's jsdom too).
  baseUrl: globalThis.location?.origin ?? "",
  credentials: "same-origin",
  // Looked up on each call, not captured once, so tests can stand in for the network.
  fetch: (request: Request) => globalThis.fetch(request),
});

/** A schema of the OpenAPI description by name: `Schema<"TaskResponse">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

/** What an `api.GET(...)` etc. resolves to, reduced to what the helpers read. */
export interface FetchResult<Body> {
  data?: Body;
  error?: unknown;
  response: Response;
}

async function settle<Body>(request: Promise<FetchResult<Body>>): Promise<FetchResult<Body>> {
  let result: FetchResult<Body>;
  try {
    result = await request;
  } catch (cause) {
    throw networkError(cause);
  }
  if (!result.response.ok) throw errorFromResponse(result.response, result.error);
  return result;
}

/** The `data` of a success envelope; any error becomes an `ApiError`. */
export async function call<Data>(request: Promise<FetchResult<{ data: Data }>>): Promise<Data> {
  const { data } = await settle(request);
  if (data === undefined) throw new Error("The server answered without a body.");
  return data.data;
}

/** One page of a list and the total (`X-Total-Count`). */
export interface Page<Item> {
  items: Item[];
  total: number;
}

export async function callPage<Item>(
  request: Promise<FetchResult<{ data: Item[] }>>,
): Promise<Page<Item>> {
  const { data, response } = await settle(request);
  const items = data?.data ?? [];
  const header = response.headers.get("X-Total-Count");
  const total = header === null ? items.length : Number(header);
  return { items, total: Number.isFinite(total) ? total : items.length };
}

/** For answers whose body does not matter (204, or an envelope with `data: null`). */
export async function callVoid(request: Promise<FetchResult<unknown>>): Promise<void> {
  await settle(request);
}
