import { isAbsolute, resolve } from "node:path";
import { BadEndpointError } from "./errors.ts";

/** How a host file is to be read (or written): raw bytes, or converted into a table or series. */
export type HostFormat = "data" | "table" | "csv" | "series" | "series+csv" | "delta";

/** A command-line location: a host file (`host:…`, `host+table:…`) or a pond path. */
export type Endpoint = { kind: "host"; format: HostFormat; path: string; raw: string } | { kind: "pond"; path: string; raw: string };

const HOST_RE = /^host(\+[a-z+]+)?:(.*)$/s;
const FORMATS: Record<string, HostFormat> = {
  "": "data",
  "+table": "table",
  "+csv": "csv",
  "+series": "series",
  "+series+csv": "series+csv",
  "+csv+series": "series+csv",
  "+delta": "delta",
};

/**
 * Parses `host:///abs/path`, `host:relative/path` (against `cwd`), the `host+FORMAT:`
 * variants, or else a pond path (returned as written).
 */
export function parseEndpoint(s: string, cwd: string): Endpoint {
  const m = HOST_RE.exec(s);
  if (!m) return { kind: "pond", path: s, raw: s };
  const suffix = m[1] ?? "";
  const format = FORMATS[suffix];
  if (format === undefined) {
    throw new BadEndpointError(
      `Unknown host format "host${suffix}:" in "${s}"`,
      s,
      "Use host:, host+table:, host+csv:, host+series:, host+series+csv: or host+delta:.",
    );
  }
  let rest = m[2]!;
  if (rest.startsWith("//")) {
    rest = rest.slice(2);
    if (!rest.startsWith("/")) {
      throw new BadEndpointError(
        `"${s}" names a host ("${rest.split("/")[0]}"); only local files are supported`,
        s,
        "Write host:///absolute/path (three slashes) or host:relative/path.",
      );
    }
  }
  if (rest === "") throw new BadEndpointError(`"${s}" names no file`, s, "Write host:///absolute/path or host:relative/path.");
  const path = isAbsolute(rest) ? resolve(rest) : resolve(cwd, rest);
  return { kind: "host", format, path, raw: s };
}
