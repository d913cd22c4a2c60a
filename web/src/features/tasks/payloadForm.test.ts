import { describe, expect, it } from "vitest";
import {
  fieldOf,
  humanize,
  initialValues,
  payloadFieldOf,
  payloadShapes,
  toPayload,
} from "./payloadForm";
// The schemas studypath's built-in types publish (GET /api/v1/tasks/types), captured from
// the server's registry.
import schemas from "./payloadSchemas.fixture.json";

const byName = <T extends { name: string }>(items: T[], name: string): T => {
  const item = items.find((i) => i.name === name);
  if (!item) throw new Error(`no ${name}`);
  return item;
};

describe("payloadShapes", () => {
  it("turns a one-shape schema into typed fields", () => {
    const [shape, ...others] = payloadShapes(schemas.delay_task);
    expect(others).toEqual([]);
    expect(shape?.fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ["delay_seconds", "number", true],
      ["deadline", "datetime", false],
      ["task_id", "text", false],
      ["test_scenario", "text", false],
    ]);
    expect(byName(shape!.fields, "delay_seconds")).toMatchObject({ minimum: 0, maximum: 3600 });
  });

  it("offers both shapes of an if/then/else schema, studypath's own first", () => {
    const shapes = payloadShapes(schemas.data_processing);
    expect(shapes.map((s) => s.key)).toEqual(["StatisticsPayload", "SingleOperationPayload"]);
    const [own, reference] = shapes;
    expect(byName(own!.fields, "data")).toMatchObject({
      kind: "list",
      itemKind: "number",
      required: true,
    });
    expect(byName(own!.fields, "operations")).toMatchObject({
      kind: "multiselect",
      options: ["count", "sum", "mean", "min", "max"],
    });
    expect(byName(reference!.fields, "operation")).toMatchObject({
      kind: "select",
      required: true,
    });
  });

  it("reads 'one address or a list' as a list, and free JSON as a JSON field", () => {
    const [email] = payloadShapes(schemas.email);
    expect(byName(email!.fields, "to")).toMatchObject({
      kind: "list",
      itemKind: "text",
      required: true,
    });
    const [webhook] = payloadShapes(schemas.webhook);
    expect(byName(webhook!.fields, "json").kind).toBe("json");
    expect(byName(webhook!.fields, "headers").kind).toBe("json");
    expect(byName(webhook!.fields, "method")).toMatchObject({ kind: "select", default: "POST" });
  });

  it("has no fields for a type without a schema", () => {
    expect(payloadShapes(null)).toEqual([]);
  });
});

describe("toPayload", () => {
  it("sends typed values and leaves empty optional fields out", () => {
    const [shape] = payloadShapes(schemas.data_processing);
    const values = { ...initialValues(shape!), data: "1, 2.5, 3", operations: ["sum", "mean"] };
    expect(toPayload(shape!, values)).toEqual({
      payload: { data: [1, 2.5, 3], operations: ["sum", "mean"] },
      errors: {},
    });
  });

  it("names the fields it cannot send: missing, not a number, not JSON", () => {
    const [shape] = payloadShapes(schemas.webhook);
    const result = toPayload(shape!, {
      ...initialValues(shape!),
      timeout_seconds: "ten",
      headers: "{not json",
    });
    expect(result.errors).toEqual({
      url: "Required.",
      timeout_seconds: "Enter a number.",
      headers: "Enter valid JSON.",
    });
  });

  it("starts from the schema's defaults", () => {
    const [shape] = payloadShapes(schemas.webhook);
    const values = initialValues(shape!);
    expect(values.method).toBe("POST");
    expect(values.timeout_seconds).toBe("10");
  });

  it("keeps whole numbers whole and booleans as booleans", () => {
    const count = fieldOf("count", { type: "integer" }, true);
    const flag = fieldOf("dry_run", { type: "boolean", default: false }, false);
    const shape = { key: "main", title: "x", fields: [count, flag] };
    expect(toPayload(shape, { count: "2.5", dry_run: true }).errors).toEqual({
      count: "Enter a whole number.",
    });
    expect(toPayload(shape, { count: "2", dry_run: true }).payload).toEqual({
      count: 2,
      dry_run: true,
    });
  });
});

describe("names", () => {
  it("maps the server's payload.<field> to the form's field", () => {
    expect(payloadFieldOf("payload.delay_seconds")).toBe("delay_seconds");
    expect(payloadFieldOf("payload")).toBeNull();
    expect(payloadFieldOf("priority")).toBeNull();
  });
  it("labels names for people", () => {
    expect(humanize("delay_seconds")).toBe("Delay seconds");
    expect(humanize("SingleOperation")).toBe("Single operation");
  });
});
