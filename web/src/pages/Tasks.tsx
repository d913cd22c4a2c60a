import { Link } from "react-router";
import type { Schema } from "../api/client";
import { FilterSelect } from "../components/Filters";
import { plural } from "../components/format";
import { PageHeading } from "../components/PageHeading";
import { Pagination } from "../components/Pagination";
import { useAddressFilters } from "../components/useAddressFilters";
import { StatusBadge } from "../features/tasks/StatusBadge";
import { TASK_STATUSES, TASKS_REFRESH_MS, useTasks, useTaskTypes } from "../features/tasks/hooks";

type Task = Schema<"TaskResponse">;

/** My tasks (moderators and admins: everyone's), filtered by status and type, paged. */
export default function Tasks() {
  // The filters live in the address, so a filtered page can be bookmarked and reloaded.
  const { params, page, setOffset } = useAddressFilters();
  const status = TASK_STATUSES.find((s) => s === params.get("status"));
  const taskType = params.get("type") || undefined;
  const tasks = useTasks({ status, task_type: taskType, ...page });
  const types = useTaskTypes();

  return (
    <section>
      <PageHeading>Tasks</PageHeading>
      <p className="actions">
        <Link to="/tasks/new">Create a task</Link>
        <span className="muted">
          Refreshes every {TASKS_REFRESH_MS / 1000} s while this tab is visible.
          {tasks.isFetching && " Updating…"}
        </span>
      </p>
      <div className="filters" role="search" aria-label="Filter tasks">
        <FilterSelect label="Status" name="status" any="Any status" options={TASK_STATUSES} />
        <FilterSelect
          label="Type"
          name="type"
          any="Any type"
          options={(types.data ?? []).map((t) => t.task_type)}
        />
      </div>
      {tasks.data?.items.length === 0 && (
        <p>{status || taskType ? "No tasks match these filters." : "You have no tasks yet."}</p>
      )}
      {tasks.data && tasks.data.items.length > 0 && (
        <TaskTable tasks={tasks.data.items} total={tasks.data.total} />
      )}
      {tasks.data && (
        <Pagination
          label="Pages of tasks"
          total={tasks.data.total}
          {...page}
          onOffsetChange={setOffset}
        />
      )}
    </section>
  );
}

/** One page of tasks; the caption counts them all. */
function TaskTable({ tasks, total }: { tasks: Task[]; total: number }) {
  return (
    <div className="table-scroll">
      <table>
        <caption className="muted">{plural(total, "task")}</caption>
        <thead>
          <tr>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col" className="wide-only">
              Priority
            </th>
            <th scope="col" className="wide-only">
              Attempts
            </th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((task) => (
            <tr key={task.id}>
              <td>
                <Link to={`/tasks/${task.id}`}>{task.task_type}</Link>
              </td>
              <td>
                <StatusBadge status={task.status} />
              </td>
              <td className="wide-only">{task.priority}</td>
              <td className="wide-only">
                {task.current_attempt}/{task.max_attempts}
              </td>
              <td>
                <time dateTime={task.created_at}>{shortDateTime(task.created_at)}</time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "27/11/2026, 21:15" in the reader's locale: short enough for a 375 px table. */
function shortDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}
