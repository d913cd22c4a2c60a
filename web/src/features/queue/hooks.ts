/** For moderators: the task queue's counts and its dead letters (failed tasks), retried from here. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, call, callPage } from "../../api/client";
import { queryKeys } from "../../api/queryKeys";

const LIVE = { refetchInterval: 30_000, refetchIntervalInBackground: false } as const;

export function useTaskStats() {
  return useQuery({
    queryKey: queryKeys.tasks.stats,
    queryFn: () => call(api.GET("/api/v1/tasks/stats")),
    ...LIVE,
  });
}

export function useDeadLetters(page: { limit: number; offset: number }) {
  return useQuery({
    queryKey: queryKeys.tasks.deadLetter(page),
    queryFn: () => callPage(api.GET("/api/v1/tasks/dead-letter", { params: { query: page } })),
    placeholderData: keepPreviousData,
    ...LIVE,
  });
}

/** Send a dead letter back to the queue (attempts reset); every task view is read again. */
export function useRetryDeadLetter() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (taskId: string) =>
      call(api.POST("/api/v1/tasks/{task_id}/retry", { params: { path: { task_id: taskId } } })),
    onSuccess: (task) => {
      queryClient.setQueryData(queryKeys.tasks.detail(task.id), task);
      return queryClient.invalidateQueries({ queryKey: queryKeys.tasks.all });
    },
  });
}
