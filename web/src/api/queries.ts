/**
 * The shapes most of the features' hooks share, written once:
 *
 * - `usePageQuery`: one page of a filtered list. The previous page stays on screen while the
 *   next one (or a new filter's answer) loads, instead of a spinner.
 * - `useInvalidatingMutation`: a change after which the queries it affects are read again.
 * - `refreshEvery`: a list that changes on its own is read again on an interval, and not
 *   while the tab is hidden.
 *
 * A feature's hook names only what is its own: the query key, the request, the options.
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
import { callPage, type FetchResult, type Page } from "./client";
import type { paths } from "./schema";

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

/** What a list's hook may add to the shared options. */
export type PageQueryOptions<Item> = Pick<
  UseQueryOptions<Page<Item>>,
  "refetchInterval" | "refetchIntervalInBackground" | "throwOnError"
>;

/** One page of a list: `request` is the GET of that page (`api.GET(path, { params })`). */
export function usePageQuery<Item>(
  queryKey: QueryKey,
  request: () => Promise<FetchResult<{ data: Item[] }>>,
  options: PageQueryOptions<Item> = {},
) {
  return useQuery({
    ...options,
    queryKey,
    queryFn: () => callPage(request()),
    placeholderData: keepPreviousData,
  });
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
