import { CollectConfigError } from "./errors.ts";
import { checkSecretRef } from "./secret-ref.ts";

/**
 * A tiny declarative checker for collector configs: each kind lists its keys with a type,
 * so every error names the file, the key and what is allowed, and unknown keys (typos)
 * are refused instead of silently ignored.
 */
export type FieldType =
  | { type: "string" }
  | { type: "secret" }
  | { type: "pond-path" }
  | { type: "host-path" }
  | { type: "number"; min?: number; integer?: boolean }
  | { type: "boolean" }
  | { type: "time" }
  | { type: "enum"; values: readonly string[] }
  | { type: "list"; of: Record<string, Field> };

export type Field = FieldType & { required?: boolean; describe?: string };

export type Schema = Record<string, Field>;

/** Checks `obj` against `schema`; returns it unchanged (typed by the caller) or throws CollectConfigError. */
export function checkObject(file: string, obj: unknown, schema: Schema, prefix = ""): Record<string, unknown> {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new CollectConfigError(file, prefix || undefined, `expected a mapping of keys (${Object.keys(schema).join(", ")})`);
  }
  const rec = obj as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    if (!(k in schema)) throw new CollectConfigError(file, prefix + k, `unknown key; allowed here: ${Object.keys(schema).join(", ")}`);
  }
  for (const [k, f] of Object.entries(schema)) {
    const v = rec[k];
    if (v === undefined || v === null) {
      if (f.required) throw new CollectConfigError(file, prefix + k, `missing; it is required (${describeType(f)})`);
      continue;
    }
    checkValue(file, prefix + k, v, f);
  }
  return rec;
}

function checkValue(file: string, key: string, v: unknown, f: Field): void {
  const bad = () =>
    new CollectConfigError(
      file,
      key,
      `expected ${describeType(f)}, got ${typeof v === "object" ? (Array.isArray(v) ? "a list" : "a mapping") : f.type === "secret" ? typeof v : JSON.stringify(v)}`,
    );
  switch (f.type) {
    case "string":
      if (typeof v !== "string" || v === "") throw bad();
      return;
    case "secret":
      checkSecretRef(file, key, v);
      return;
    case "pond-path":
      if (typeof v !== "string" || !v.startsWith("/")) throw bad();
      return;
    case "host-path":
      if (typeof v !== "string" || !v.startsWith("/")) throw bad();
      return;
    case "number":
      if (typeof v !== "number" || !Number.isFinite(v) || (f.integer && !Number.isInteger(v)) || (f.min !== undefined && v < f.min)) throw bad();
      return;
    case "boolean":
      if (typeof v !== "boolean") throw bad();
      return;
    case "time":
      if (!(v instanceof Date) && (typeof v !== "string" || Number.isNaN(Date.parse(v)))) throw bad();
      return;
    case "enum":
      if (typeof v !== "string" || !f.values.includes(v)) throw bad();
      return;
    case "list":
      if (!Array.isArray(v)) throw bad();
      for (const [i, item] of v.entries()) checkObject(file, item, f.of, `${key}[${i}].`);
      return;
  }
}

export function describeType(f: Field): string {
  switch (f.type) {
    case "string":
      return "a non-empty string";
    case "secret":
      return "a ${env:NAME} reference";
    case "pond-path":
      return "an absolute pond path like /data/site";
    case "host-path":
      return "an absolute host path like /home/me/exports";
    case "number":
      return `${f.integer ? "a whole number" : "a number"}${f.min !== undefined ? ` ≥ ${f.min}` : ""}`;
    case "boolean":
      return "true or false";
    case "time":
      return "an ISO 8601 time like 2024-01-01T00:00:00Z";
    case "enum":
      return `one of ${f.values.join(", ")}`;
    case "list":
      return `a list of mappings with keys ${Object.keys(f.of).join(", ")}`;
  }
}
