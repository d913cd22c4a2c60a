import { useNavigate, useParams } from "react-router";
import { BackLink } from "../components/BackLink";
import { DescriptionList } from "../components/DescriptionList";
import { ErrorMessage } from "../components/ErrorMessage";
import { when } from "../components/format";
import { JsonBlock } from "../components/JsonBlock";
import { Loading } from "../components/Loading";
import { PageHeading } from "../components/PageHeading";
import { StatusBadge } from "../features/tasks/StatusBadge";
import {
  actionsFor,
  isActive,
  useTask,
  useTaskAction,
  type TaskAction,
} from "../features/tasks/hooks";

const ACTION_LABEL: Record<TaskAction, string> = {
  cancel: "Cancel task",
  retry: "Retry task",
  delete: "Delete task",
};

interface HistoryEntry {
  attempt?: unknown;
  error?: unknown;
  at?: unknown;
  worker?: unknown;
}

/** One task: its state (re-read every 2 s while it runs), attempts, errors, payload, result. */
export default function TaskDetail() {
  const { taskId = "" } = useParams();
  const navigate = useNavigate();
  const { data: task } = useTask(taskId);
  const action = useTaskAction(taskId);

  if (!task) return <Loading />;

  function run(kind: TaskAction) {
    if (kind === "delete" && !window.confirm("Delete this task for good?")) return;
    action.mutate(kind, {
      onSuccess: () => kind === "delete" && navigate("/tasks", { replace: true }),
    });
  }

  const history = task.error_history as HistoryEntry[];
  return (
    <section>
      <BackLink to="/tasks">All tasks</BackLink>
      <PageHeading title={`Task ${task.task_type}`}>{`Task: ${task.task_type}`}</PageHeading>
      <p aria-live="polite">
        Status: <StatusBadge status={task.status} />
        {isActive(task.status) && <span className="muted"> (watching for changes)</span>}
        {task.cancel_requested_at && task.status === "running" && " — cancellation requested"}
      </p>
      <div className="actions">
        {actionsFor(task.status).map((kind) => (
          <button
            key={kind}
            type="button"
            className={kind === "delete" ? "danger" : "secondary"}
            disabled={action.isPending}
            onClick={() => run(kind)}
          >
            {ACTION_LABEL[kind]}
          </button>
        ))}
      </div>
      <ErrorMessage error={action.error} />
      <DescriptionList
        items={{
          Id: <code>{task.id}</code>,
          Priority: task.priority,
          Attempts: `${task.current_attempt} of ${task.max_attempts}`,
          Created: when(task.created_at),
          Scheduled: when(task.scheduled_at),
          Started: when(task.started_at),
          Finished: when(task.completed_at),
          "Last error": task.last_error ?? "—",
        }}
      />

      <h2>Error history</h2>
      {history.length === 0 ? (
        <p>No failed attempts.</p>
      ) : (
        <ol className="history">
          {history.map((entry, index) => (
            <li key={index}>
              Attempt {String(entry.attempt ?? index + 1)}
              {typeof entry.at === "string" && <> at {when(entry.at)}</>}
              {typeof entry.worker === "string" && (
                <span className="muted"> on {entry.worker}</span>
              )}
              : <code>{String(entry.error ?? "unknown error")}</code>
            </li>
          ))}
        </ol>
      )}

      <h2>Payload</h2>
      <JsonBlock value={task.payload} label="Payload" />
      <h2>Result</h2>
      {task.result == null ? (
        <p>No result yet.</p>
      ) : (
        <JsonBlock value={task.result} label="Result" />
      )}
    </section>
  );
}
