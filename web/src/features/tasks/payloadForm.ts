/**
 * A task type's payload schema (JSON Schema, from `GET /api/v1/tasks/types`) → form fields,
 * and the form's values → the payload to send.
 *
 * The schemas the server publishes are pydantic's: objects of properties, optional values
 * as `anyOf: [X, {type: "null"}]`, and — for the types that accept both the reference's
 * shape and studypath's own — `if/then/else` choosing between two `$defs`. Each such
 * choice becomes a "shape" the user picks. What no input describes well (free JSON, an
 * object of headers) is a JSON text area. The server checks the payload again: the form
 * catches what it can (required, numbers, JSON) and shows the server's field errors too.
 */

type JsonSchema = Record<string, unknown>;

export type FieldKind =
  | "text"
  | "number"
  | "integer"
  | "boolean"
  | "select"
  | "multiselect"
  | "list"
  | "datetime"
  | "json";

export interface PayloadField {
  name: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  /** `select` and `multiselect`: the allowed values. */
  options?: string[];
  /** `list`: what each comma-separated item is. */
  itemKind?: "number" | "text";
  default?: unknown;
  minimum?: number;
  maximum?: number;
}

export interface PayloadShape {
  /** `main` for a single-shape schema, else the `$defs` name. */
  key: string;
  title: string;
  description?: string;
  fields: PayloadField[];
}

export type FieldValue = string | boolean | string[];
export type FormValues = Record<string, FieldValue>;

const isObject = (value: unknown): value is JsonSchema =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function resolve(schema: unknown, root: JsonSchema): JsonSchema {
  if (!isObject(schema)) return {};
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const name = ref.replace(/^#\/(\$defs|definitions)\//, "");
  const defs = (
    isObject(root.$defs) ? root.$defs : isObject(root.definitions) ? root.definitions : {}
  ) as JsonSchema;
  return resolve(defs[name], root);
}

/** The shapes a schema accepts; studypath's own first (the `else` branch), then the reference's. */
export function payloadShapes(schema: unknown): PayloadShape[] {
  if (!isObject(schema)) return [];
  const branches = [schema.else, schema.then, ...asArray(schema.oneOf), ...asArray(schema.anyOf)];
  const alternatives = branches.filter(isObject).map((branch) => ({
    key: typeof branch.$ref === "string" ? (branch.$ref.split("/").pop() ?? "shape") : "shape",
    schema: resolve(branch, schema),
  }));
  if (alternatives.length === 0) {
    return [shapeOf("main", schema, schema, stringOr(schema.title, "Payload"))];
  }
  return alternatives.map(({ key, schema: branch }) =>
    shapeOf(key, branch, schema, stringOr(branch.title, key)),
  );
}

function shapeOf(key: string, schema: JsonSchema, root: JsonSchema, title: string): PayloadShape {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(
    asArray(schema.required).filter((n): n is string => typeof n === "string"),
  );
  const description = typeof schema.description === "string" ? schema.description : undefined;
  return {
    key,
    title: humanize(title.replace(/Payload$/, "")) || title,
    ...(description ? { description } : {}),
    fields: Object.entries(properties).map(([name, property]) =>
      fieldOf(name, resolve(property, root), required.has(name), root),
    ),
  };
}

/** One property → one input. */
export function fieldOf(
  name: string,
  property: JsonSchema,
  required: boolean,
  root: JsonSchema = {},
): PayloadField {
  const variants = asArray(property.anyOf).map((v) => resolve(v, root));
  const nonNull = variants.filter((v) => v.type !== "null");
  // `anyOf: [X, null]` is an optional X; keep the outer title, description and default.
  const inner: JsonSchema =
    nonNull.length === 1 && nonNull[0] ? { ...nonNull[0], ...withoutAnyOf(property) } : property;
  const base: PayloadField = {
    name,
    label: stringOr(inner.title, humanize(name)),
    kind: kindOf(inner, nonNull),
    required,
    ...(typeof inner.description === "string" ? { description: inner.description } : {}),
    ...("default" in inner && inner.default !== null ? { default: inner.default } : {}),
    ...(typeof inner.minimum === "number" ? { minimum: inner.minimum } : {}),
    ...(typeof inner.maximum === "number" ? { maximum: inner.maximum } : {}),
  };
  if (base.kind === "select") return { ...base, options: stringEnum(inner.enum) };
  if (base.kind === "multiselect" && isObject(inner.items)) {
    return { ...base, options: stringEnum(inner.items.enum) };
  }
  if (base.kind === "list") {
    const items = isObject(inner.items)
      ? inner.items
      : (nonNull.find((v) => v.type === "array")?.items as JsonSchema | undefined);
    const itemType = isObject(items) ? items.type : undefined;
    return {
      ...base,
      itemKind: itemType === "number" || itemType === "integer" ? "number" : "text",
    };
  }
  return base;
}

function kindOf(schema: JsonSchema, variants: JsonSchema[]): FieldKind {
  // "One address or a list of them" (a string or an array of strings): a list.
  if (variants.length > 1) {
    const types = new Set(variants.map((v) => v.type));
    return types.has("array") && [...types].every((t) => t === "array" || t === "string")
      ? "list"
      : "json";
  }
  if (Array.isArray(schema.enum) && schema.enum.every((v) => typeof v === "string"))
    return "select";
  switch (schema.type) {
    case "string":
      return schema.format === "date-time" ? "datetime" : "text";
    case "number":
      return "number";
    case "integer":
      return "integer";
    case "boolean":
      return "boolean";
    case "array": {
      const items = isObject(schema.items) ? schema.items : {};
      if (Array.isArray(items.enum)) return "multiselect";
      return ["number", "integer", "string"].includes(String(items.type)) ? "list" : "json";
    }
    default:
      return "json"; // objects, free JSON, anything richer than one input
  }
}

/** Starting values: the schema's defaults, else empty. */
export function initialValues(shape: PayloadShape): FormValues {
  const values: FormValues = {};
  for (const field of shape.fields) values[field.name] = initialValue(field);
  return values;
}

function initialValue(field: PayloadField): FieldValue {
  const value = field.default;
  switch (field.kind) {
    case "boolean":
      return value === true;
    case "multiselect":
      return Array.isArray(value) ? value.map(String) : [];
    case "json":
      return value === undefined ? "" : JSON.stringify(value, null, 2);
    case "list":
      return Array.isArray(value) ? value.join(", ") : value === undefined ? "" : String(value);
    default:
      return value === undefined ? "" : String(value);
  }
}

export interface PayloadResult {
  payload: Record<string, unknown>;
  /** Problems found before sending, by field name. */
  errors: Record<string, string>;
}

/** The payload for the filled-in form. Empty optional fields are left out. */
export function toPayload(shape: PayloadShape, values: FormValues): PayloadResult {
  const payload: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of shape.fields) {
    const raw = values[field.name];
    const parsed = parseValue(field, raw);
    if ("error" in parsed) {
      errors[field.name] = parsed.error;
    } else if (parsed.value === undefined) {
      if (field.required) errors[field.name] = "Required.";
    } else {
      payload[field.name] = parsed.value;
    }
  }
  return { payload, errors };
}

function parseValue(
  field: PayloadField,
  raw: FieldValue | undefined,
): { value: unknown } | { error: string } {
  if (field.kind === "boolean") return { value: raw === true };
  if (field.kind === "multiselect") {
    return { value: Array.isArray(raw) && raw.length > 0 ? raw : undefined };
  }
  const text = typeof raw === "string" ? raw.trim() : "";
  if (text === "") return { value: undefined };
  switch (field.kind) {
    case "number":
    case "integer": {
      const number = Number(text);
      if (!Number.isFinite(number)) return { error: "Enter a number." };
      if (field.kind === "integer" && !Number.isInteger(number))
        return { error: "Enter a whole number." };
      return { value: number };
    }
    case "list": {
      const items = text
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean);
      if (field.itemKind !== "number") return { value: items };
      const numbers = items.map(Number);
      return numbers.every(Number.isFinite)
        ? { value: numbers }
        : { error: "Enter numbers separated by commas." };
    }
    case "datetime": {
      const when = new Date(text);
      return Number.isNaN(when.getTime())
        ? { error: "Enter a date and time." }
        : { value: when.toISOString() };
    }
    case "json":
      try {
        return { value: JSON.parse(text) as unknown };
      } catch {
        return { error: "Enter valid JSON." };
      }
    default:
      return { value: text };
  }
}

/** The server names payload fields `payload.<name>`; the form's field is `<name>`. */
export function payloadFieldOf(serverField: string): string | null {
  const match = /^payload\.([^.]+)/.exec(serverField);
  return match?.[1] ?? null;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

function stringEnum(value: unknown): string[] {
  return asArray(value).filter((v): v is string => typeof v === "string");
}

function withoutAnyOf(schema: JsonSchema): JsonSchema {
  const { anyOf: _anyOf, ...rest } = schema;
  return rest;
}

/** `delay_seconds` → "Delay seconds"; `SingleOperation` → "Single operation". */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
