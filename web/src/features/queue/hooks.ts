/** For moderators: the task queue's counts and its dead letters (failed tasks), retried from here. */
import { useQuery } from "@tanstack/react-query";
import { api, call } from "../../api/client";
import { listQueryHook, refreshEvery } from "../../api/queries";
import { queryKeys } from "../../api/queryKeys";
import { useTaskMutation } from "../tasks/hooks";

const LIVE = refreshEvery(30_000);

export function useTaskStats() {
  return useQuery({
    queryKey: queryKeys.tasks.stats,
    queryFn: () => call(api.GET("/api/v1/tasks/stats")),
    ...LIVE,
  });
}

export const useDeadLetters = listQueryHook(
  "/api/v1/tasks/dead-letter",
  queryKeys.tasks.deadLetter,
  LIVE,
);

/** Send a dead letter back to the queue (attempts reset); every task view is read again. */
export function useRetryDeadLetter() {
  return useTaskMutation((taskId: string) =>
    call(api.POST("/api/v1/tasks/{task_id}/retry", { params: { path: { task_id: taskId } } })),
  );
}
