/**
 * The shapes most of the features' hooks share, written once:
 *
 * - `listQueryHook`: the hook that reads one page of a filtered list, made from the list's GET
 *   path and query key. The previous page stays on screen while the next one (or a new
 *   filter's answer) loads, instead of a spinner. Every list pages by `PAGE_SIZE`.
 * - `useInvalidatingMutation`: a change after which the queries it affects are read again.
 * - `refreshEvery`: a list that changes on its own is read again on an interval, and not
 *   while the tab is hidden.
 *
 * A feature's hook names only what is its own: the query key, the request (a list: its path),
 * the options.
 */
import {
  keepPreviousData,
  useMutation,
  useQuery,
  useQueryClient,
  type QueryKey,
  type UseMutationOptions,
  type UseQueryOptions,
} from "@tanstack/react-query";
import { api, callPage, type FetchResult, type Page } from "./client";
import type { paths } from "./schema";

/** How many rows a page of any list shows: one size for the whole app. */
export const PAGE_SIZE = 20;

/** Where a page starts and how long it is: every list names both, so its key says which. */
export interface PageParams {
  limit: number;
  offset: number;
}

/** The query parameters of a GET path, as the server's OpenAPI description states them. */
type GetQuery<Path extends keyof paths> = paths[Path] extends {
  get: { parameters: { query?: infer Query } };
}
  ? NonNullable<Query>
  : never;

/** A list's filters: the query its GET path takes, the page always named. */
export type ListFilters<Path extends keyof paths> = GetQuery<Path> & PageParams;

/** Re-read every `ms` while the tab is visible; not at all while it is hidden. */
export function refreshEvery(ms: number) {
  return { refetchInterval: ms, refetchIntervalInBackground: false } as const;
}

/** The GET paths that answer a list (`{data: [...]}`, the total in `X-Total-Count`). */
type ListPath = {
  [Path in keyof paths]: paths[Path] extends {
    get: { responses: { 200: { content: { "application/json": { data: unknown[] } } } } };
  }
    ? Path
    : never;
}[keyof paths];

/** One item of the list at `Path`, as the OpenAPI description states it. */
type ItemOf<Path extends ListPath> =
  paths[Path]["get"]["responses"][200]["content"]["application/json"]["data"][number];

/**
 * `api.GET` as a list path sees it. TypeScript cannot follow openapi-fetch's types through a
 * path that is itself a type parameter, so this states what they give for every `ListPath`.
 */
type GetList = <Path extends ListPath>(
  path: Path,
  init: { params: { query: ListFilters<Path> } },
) => Promise<FetchResult<{ data: ItemOf<Path>[] }>>;

/** What a list's hook may add to the shared options. */
type PageQueryOptions<Item> = Pick<
  UseQueryOptions<Page<Item>>,
  "refetchInterval" | "refetchIntervalInBackground" | "throwOnError"
>;

/**
 * The hook that reads one page of the list at GET `path`, its filters (the page included)
 * as the query: `export const useAlerts = listQueryHook("/api/v1/monitoring/alerts",
 * queryKeys.monitoring.alerts)`, then `useAlerts({ status, ...page })`.
 */
export function listQueryHook<Path extends ListPath>(
  path: Path,
  queryKey: (filters: ListFilters<Path>) => QueryKey,
  options: PageQueryOptions<ItemOf<Path>> = {},
) {
  return function usePage(filters: ListFilters<Path>) {
    return useQuery({
      ...options,
      queryKey: queryKey(filters),
      queryFn: () => callPage((api.GET as GetList)(path, { params: { query: filters } })),
      placeholderData: keepPreviousData,
    });
  };
}

/**
 * A mutation that, once it succeeded, marks every query under each of `invalidates` stale
 * (those on screen are read again). It stays pending until they are invalidated.
 */
export function useInvalidatingMutation<Input = void, Output = unknown>(
  invalidates: readonly QueryKey[],
  mutationFn: (input: Input) => Promise<Output>,
  options: Pick<UseMutationOptions<Output, Error, Input>, "meta"> = {},
) {
  const queryClient = useQueryClient();
  return useMutation({
    ...options,
    mutationFn,
    onSuccess: () =>
      Promise.all(invalidates.map((queryKey) => queryClient.invalidateQueries({ queryKey }))),
  });
}
