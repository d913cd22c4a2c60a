/** Reading and changing tasks; every key comes from `queryKeys.tasks`. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, call, callPage, callVoid, type Schema } from "../../api/client";
import { listQueryHook, refreshEvery } from "../../api/queries";
import { queryKeys } from "../../api/queryKeys";

export type Task = Schema<"TaskResponse">;
export type TaskStatus = Schema<"TaskStatus">;
export type TaskPriority = Schema<"TaskPriority">;
export type TaskTypeInfo = Schema<"TaskTypeInfo">;
export type CreateTask = Schema<"CreateTask">;

export const TASK_STATUSES: readonly TaskStatus[] = [
  "pending",
  "running",
  "retrying",
  "completed",
  "failed",
  "cancelled",
];
export const TASK_PRIORITIES: readonly TaskPriority[] = ["low", "normal", "high", "critical"];

/** A task still on its way: worth watching for changes. */
export const isActive = (status: TaskStatus) =>
  status === "pending" || status === "running" || status === "retrying";

/** How often the tasks list refreshes itself while the tab is visible. */
export const TASKS_REFRESH_MS = 30_000;

/**
 * One page of tasks. It refetches every 30 s, and not while the tab is hidden
 * (`refetchIntervalInBackground: false`); the previous page stays on screen while the next
 * one loads.
 */
export const useTasks = listQueryHook(
  "/api/v1/tasks",
  queryKeys.tasks.list,
  refreshEvery(TASKS_REFRESH_MS),
);

/** How many of my tasks have `status` (one row fetched; the total is the header). */
export function useTaskCount(status: TaskStatus) {
  return useQuery({
    queryKey: queryKeys.tasks.countByStatus(status),
    queryFn: async () =>
      (await callPage(api.GET("/api/v1/tasks", { params: { query: { status, limit: 1 } } }))).total,
  });
}

/** One task; while it is still running it is re-read every 2 s. */
export function useTask(taskId: string) {
  return useQuery({
    queryKey: queryKeys.tasks.detail(taskId),
    queryFn: () =>
      call(api.GET("/api/v1/tasks/{task_id}", { params: { path: { task_id: taskId } } })),
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      return status && isActive(status) ? 2_000 : false;
    },
    refetchIntervalInBackground: false,
  });
}

export function useTaskTypes() {
  return useQuery({
    queryKey: queryKeys.tasks.types,
    queryFn: () => call(api.GET("/api/v1/tasks/types")),
    staleTime: 5 * 60_000,
  });
}

/**
 * A change whose answer is a task (created, or sent back to the queue): the answer is cached
 * as that task, and every task view (lists, counts, the queue) is read again.
 */
export function useTaskMutation<Input>(run: (input: Input) => Promise<Task>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: (task) => {
      queryClient.setQueryData(queryKeys.tasks.detail(task.id), task);
      return queryClient.invalidateQueries({ queryKey: queryKeys.tasks.all });
    },
  });
}

export function useCreateTask() {
  return useTaskMutation((body: CreateTask) => call(api.POST("/api/v1/tasks", { body })));
}

export type TaskAction = "cancel" | "retry" | "delete";

/** Cancel, retry or delete; the lists and the task itself are read again afterwards. */
export function useTaskAction(taskId: string) {
  const queryClient = useQueryClient();
  const path = { params: { path: { task_id: taskId } } };
  return useMutation({
    mutationFn: async (action: TaskAction) => {
      if (action === "cancel") return call(api.POST("/api/v1/tasks/{task_id}/cancel", path));
      if (action === "retry") return call(api.POST("/api/v1/tasks/{task_id}/retry", path));
      await callVoid(api.DELETE("/api/v1/tasks/{task_id}", path));
      return null;
    },
    onSuccess: (task) => {
      if (task) queryClient.setQueryData(queryKeys.tasks.detail(taskId), task);
      else queryClient.removeQueries({ queryKey: queryKeys.tasks.detail(taskId) });
      return queryClient.invalidateQueries({
        queryKey: queryKeys.tasks.all,
        predicate: (query) => query.queryKey[1] !== "detail" || query.queryKey[2] !== taskId,
      });
    },
  });
}

/** Which actions a task's status allows (the server refuses the others with 409/404). */
export function actionsFor(status: TaskStatus): TaskAction[] {
  if (isActive(status)) return ["cancel"];
  if (status === "failed") return ["retry", "delete"];
  return ["delete"];
}
