import { Link } from "react-router";
import type { Schema } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { when } from "../components/format";
import { PageHeading } from "../components/PageHeading";
import { PagedList } from "../components/PagedList";
import { useAddressFilters } from "../components/useAddressFilters";
import { StatusBadge } from "../features/tasks/StatusBadge";
import { TASK_STATUSES } from "../features/tasks/hooks";
import { useDeadLetters, useRetryDeadLetter, useTaskStats } from "../features/queue/hooks";

type Task = Schema<"TaskResponse">;

/** For moderators: every task counted by status and type, and the dead-letter queue. */
export default function Queue() {
  return (
    <section>
      <PageHeading>Task queue</PageHeading>
      <Stats />
      <DeadLetters />
    </section>
  );
}

function Stats() {
  const { data: stats } = useTaskStats();
  if (!stats) return <p className="muted">Loading the counts…</p>;
  const types = Object.entries(stats.by_type).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <h2>Tasks by status</h2>
      <p className="muted">
        {stats.total} tasks in all; “failed” counts dead letters, not failed attempts.
      </p>
      <ul className="cards" aria-label="Tasks by status">
        {TASK_STATUSES.map((status) => (
          <li key={status} className="card">
            <span className="number">{stats[status]}</span>
            <StatusBadge status={status} />
          </li>
        ))}
      </ul>
      {types.length > 0 && (
        <div className="table-scroll">
          <table>
            <caption className="muted">Tasks by type and status</caption>
            <thead>
              <tr>
                <th scope="col">Type</th>
                {TASK_STATUSES.map((status) => (
                  <th key={status} scope="col">
                    {status}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {types.map(([type, counts]) => (
                <tr key={type}>
                  <th scope="row">{type}</th>
                  {TASK_STATUSES.map((status) => (
                    <td key={status}>{counts[status] ?? 0}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function DeadLetters() {
  const { page } = useAddressFilters();
  const letters = useDeadLetters(page);
  return (
    <>
      <h2>Dead letters</h2>
      <p className="muted">
        Tasks that used every attempt (or had bad input). Retrying resets their attempts.
      </p>
      <PagedList label="Dead letters" page={letters.data} empty="The dead-letter queue is empty.">
        {(task) => <DeadLetter key={task.id} task={task} />}
      </PagedList>
    </>
  );
}

function DeadLetter({ task }: { task: Task }) {
  const retry = useRetryDeadLetter();
  return (
    <li className="item">
      <p className="item-title">
        <Link to={`/tasks/${task.id}`}>{task.task_type}</Link> <StatusBadge status={task.status} />
      </p>
      <p>
        <code>{task.last_error ?? "no error recorded"}</code>
      </p>
      <p className="muted small">
        {task.current_attempt} of {task.max_attempts} attempts · failed {when(task.completed_at)}
      </p>
      <div className="actions">
        <button
          type="button"
          disabled={retry.isPending || retry.isSuccess}
          onClick={() => retry.mutate(task.id)}
        >
          Retry
          <span className="visually-hidden">
            {" "}
            task {task.task_type} {task.id}
          </span>
        </button>
        {retry.isSuccess && (
          <span role="status">
            Queued again: <Link to={`/tasks/${task.id}`}>follow it</Link>.
          </span>
        )}
      </div>
      <ErrorMessage error={retry.error} />
    </li>
  );
}
