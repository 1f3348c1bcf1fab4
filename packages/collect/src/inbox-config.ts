import type { Schema } from "./config-schema.ts";

/** `kind: inbox`: every new host file matching `pattern` in `from` becomes one version of `destination`. */
export interface InboxConfig {
  kind: "inbox";
  file: string;
  from: string;
  pattern?: string;
  profile?: string;
  sql?: string;
  destination: string;
  on_error?: "fail" | "skip";
  /** Zone of times the files write without one (the ysi profile, sql: over naive times). */
  timezone?: string;
}

export const INBOX_SCHEMA: Schema = {
  kind: { type: "enum", values: ["inbox"], required: true },
  from: { type: "host-path", required: true },
  pattern: { type: "string" },
  profile: { type: "enum", values: ["laketech", "ysi", "usgs-rdb", "insitu"] },
  sql: { type: "string" },
  destination: { type: "pond-path", required: true },
  on_error: { type: "enum", values: ["fail", "skip"] },
  timezone: { type: "string" },
};
