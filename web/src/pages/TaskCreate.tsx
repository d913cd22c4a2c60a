import { useMemo, useState } from "react";
import { useNavigate } from "react-router";
import { isApiError } from "../api/errors";
import { hasRole, roleNamed } from "../auth/roles";
import { useCurrentUser } from "../auth/session";
import { BackLink } from "../components/BackLink";
import { SelectField, TextField } from "../components/Field";
import { Form } from "../components/Form";
import { PageHeading } from "../components/PageHeading";
import { PayloadFields } from "../features/tasks/PayloadFields";
import {
  TASK_PRIORITIES,
  useCreateTask,
  useTaskTypes,
  type TaskPriority,
} from "../features/tasks/hooks";
import {
  initialValues,
  payloadFieldOf,
  payloadShapes,
  toPayload,
  type FormValues,
} from "../features/tasks/payloadForm";

/** Create a task: pick a type (those the role may create), fill the form its schema gives. */
export default function TaskCreate() {
  const me = useCurrentUser();
  const navigate = useNavigate();
  const types = useTaskTypes();
  const create = useCreateTask();
  const allowed = (types.data ?? []).filter((t) =>
    hasRole(me.role, roleNamed(t.min_role ?? "user")),
  );

  const [typeName, setTypeName] = useState("");
  const chosen = allowed.find((t) => t.task_type === typeName);
  const shapes = useMemo(() => payloadShapes(chosen?.payload_schema), [chosen]);
  const [shapeKey, setShapeKey] = useState("");
  const shape = shapes.find((s) => s.key === shapeKey) ?? shapes[0];
  const [values, setValues] = useState<FormValues>({});
  const [rawJson, setRawJson] = useState("{}");
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});

  function chooseType(name: string) {
    setTypeName(name);
    const first = payloadShapes(allowed.find((t) => t.task_type === name)?.payload_schema)[0];
    setShapeKey(first?.key ?? "");
    setValues(first ? initialValues(first) : {});
    setLocalErrors({});
    create.reset();
  }

  function chooseShape(key: string) {
    const next = shapes.find((s) => s.key === key);
    setShapeKey(key);
    setValues(next ? initialValues(next) : {});
    setLocalErrors({});
  }

  // The server's field errors for the payload (`payload.<name>`), next to the form's fields.
  const serverErrors: Record<string, string> = {};
  if (isApiError(create.error)) {
    for (const [field, messages] of Object.entries(create.error.fieldErrors)) {
      const name = payloadFieldOf(field);
      if (name && messages[0]) serverErrors[name] = messages[0];
    }
  }
  const shownFields = [
    "task_type",
    "priority",
    "max_attempts",
    ...Object.keys(serverErrors).map((name) => `payload.${name}`),
  ];

  function onSubmit(form: FormData) {
    let payload: Record<string, unknown>;
    if (shape) {
      const result = toPayload(shape, values);
      setLocalErrors(result.errors);
      if (Object.keys(result.errors).length > 0) return;
      payload = result.payload;
    } else {
      try {
        payload = JSON.parse(rawJson) as Record<string, unknown>;
        setLocalErrors({});
      } catch {
        setLocalErrors({ payload: "Enter valid JSON." });
        return;
      }
    }
    create.mutate(
      {
        task_type: typeName,
        payload,
        priority: String(form.get("priority")) as TaskPriority,
        max_attempts: Number(form.get("max_attempts")) || 5,
      },
      { onSuccess: (task) => navigate(`/tasks/${task.id}`) },
    );
  }

  return (
    <section>
      <BackLink to="/tasks">All tasks</BackLink>
      <PageHeading>Create a task</PageHeading>
      <Form onSubmit={onSubmit} error={create.error} fieldsShown={shownFields}>
        <SelectField
          label="Task type (required)"
          name="task_type"
          value={typeName}
          onChange={(e) => chooseType(e.target.value)}
          hint={chosen?.description}
          options={[
            { value: "", label: types.isPending ? "Loading types…" : "Choose a type" },
            ...allowed.map((t) => t.task_type),
          ]}
        />
        {chosen && shapes.length > 1 && (
          <SelectField
            label="Payload shape"
            name="shape"
            value={shape?.key ?? ""}
            onChange={(e) => chooseShape(e.target.value)}
            hint={shape?.description}
            options={shapes.map((s) => ({ value: s.key, label: s.title }))}
          />
        )}
        {chosen && shape && (
          <fieldset>
            <legend className="label">Payload</legend>
            <PayloadFields
              fields={shape.fields}
              values={values}
              errors={{ ...serverErrors, ...localErrors }}
              onChange={(name, value) => setValues((current) => ({ ...current, [name]: value }))}
            />
          </fieldset>
        )}
        {chosen && !shape && (
          <div className="field">
            <label htmlFor="raw-payload">Payload (JSON)</label>
            <textarea
              id="raw-payload"
              value={rawJson}
              onChange={(e) => setRawJson(e.target.value)}
              aria-invalid={localErrors.payload ? true : undefined}
            />
            {localErrors.payload && <p className="field-error">{localErrors.payload}</p>}
          </div>
        )}
        <SelectField
          label="Priority"
          name="priority"
          defaultValue="normal"
          options={TASK_PRIORITIES}
        />
        <TextField
          label="Attempts at most"
          name="max_attempts"
          type="number"
          min={1}
          max={100}
          defaultValue={5}
        />
        <button type="submit" disabled={!chosen || create.isPending}>
          {create.isPending ? "Creating…" : "Create task"}
        </button>
      </Form>
    </section>
  );
}
