import { Link, useSearchParams } from "react-router";
import { SelectField } from "../components/Field";
import { PageHeading } from "../components/PageHeading";
import { Pagination } from "../components/Pagination";
import { StatusBadge } from "../features/tasks/StatusBadge";
import { TASK_STATUSES, TASKS_REFRESH_MS, useTasks, useTaskTypes } from "../features/tasks/hooks";

const PAGE_SIZE = 20;

/** My tasks (moderators and admins: everyone's), filtered by status and type, paged. */
export default function Tasks() {
  // The filters live in the address, so a filtered page can be bookmarked and reloaded.
  const [params, setParams] = useSearchParams();
  const status = TASK_STATUSES.find((s) => s === params.get("status"));
  const taskType = params.get("type") || undefined;
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const tasks = useTasks({ status, task_type: taskType, limit: PAGE_SIZE, offset });
  const types = useTaskTypes();

  function setFilter(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== "offset") next.delete("offset");
    setParams(next);
  }

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
        <SelectField
          label="Status"
          name="status"
          value={status ?? ""}
          onChange={(e) => setFilter("status", e.target.value)}
          options={[{ value: "", label: "Any status" }, ...TASK_STATUSES]}
        />
        <SelectField
          label="Type"
          name="type"
          value={taskType ?? ""}
          onChange={(e) => setFilter("type", e.target.value)}
          options={[
            { value: "", label: "Any type" },
            ...(types.data ?? []).map((t) => t.task_type),
          ]}
        />
      </div>
      {tasks.data && tasks.data.items.length === 0 && (
        <p>{status || taskType ? "No tasks match these filters." : "You have no tasks yet."}</p>
      )}
      {tasks.data && tasks.data.items.length > 0 && (
        <>
          <div className="table-scroll">
            <table>
              <caption className="muted">
                {tasks.data.total} task{tasks.data.total === 1 ? "" : "s"}
              </caption>
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
                {tasks.data.items.map((task) => (
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
          <Pagination
            label="Task pages"
            total={tasks.data.total}
            limit={PAGE_SIZE}
            offset={offset}
            onOffsetChange={(value) => setFilter("offset", value ? String(value) : "")}
          />
        </>
      )}
    </section>
  );
}

/** "27/11/2026, 21:15" in the reader's locale: short enough for a 375 px table. */
function shortDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}
