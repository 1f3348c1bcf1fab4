type Out = { write(s: string): void };
type Streamed = (v: object) => Iterable<unknown> | undefined;

/**
 * Writes `value` as `JSON.stringify(value, null, 2)` would (and a newline), a piece at a
 * time, so that a report of hundreds of thousands of items (a cleanup at 100,000 versions
 * deletes ~300,000 files) is never one string: `pond maintain full --format json` built a
 * 58 MB text, every item an object first, and peaked at 812 MiB of RSS against 328 for the
 * text report. Values for which `streamed` returns an iterable are written as arrays of its
 * elements, read one at a time (their `toJSON` is not called); everything else as
 * `JSON.stringify` makes it: `toJSON` applied, undefined, functions and symbols left out of
 * objects and `null` in arrays, the objects' own property order.
 */
export function writeJson(out: Out, value: unknown, streamed: Streamed = () => undefined): void {
  const v = resolve(value, "", streamed);
  if (!serializable(v)) return;
  write(out, v, "", streamed);
  out.write("\n");
}

/** `value` after its `toJSON`, as JSON.stringify sees it (a streamed value is left as it is). */
function resolve(value: unknown, key: string, streamed: Streamed): unknown {
  if (value === null || typeof value !== "object" || streamed(value)) return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON === "function" ? toJSON.call(value, key) : value;
}

function serializable(v: unknown): boolean {
  return v !== undefined && typeof v !== "function" && typeof v !== "symbol";
}

function write(out: Out, value: unknown, indent: string, streamed: Streamed): void {
  if (value === null || typeof value !== "object") {
    out.write(JSON.stringify(value));
    return;
  }
  const inner = `${indent}  `;
  const elements = streamed(value) ?? (Array.isArray(value) ? (value as unknown[]) : undefined);
  let first = true;
  if (elements) {
    let i = 0;
    for (const e of elements) {
      out.write(first ? `[\n${inner}` : `,\n${inner}`);
      first = false;
      const v = resolve(e, String(i++), streamed);
      if (serializable(v)) write(out, v, inner, streamed);
      else out.write("null");
    }
    out.write(first ? "[]" : `\n${indent}]`);
    return;
  }
  for (const [k, raw] of Object.entries(value)) {
    const v = resolve(raw, k, streamed);
    if (!serializable(v)) continue;
    out.write(`${first ? "{\n" : ",\n"}${inner}${JSON.stringify(k)}: `);
    first = false;
    write(out, v, inner, streamed);
  }
  out.write(first ? "{}" : `\n${indent}}`);
}
