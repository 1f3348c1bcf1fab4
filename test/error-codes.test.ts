// Every error code Pond can raise, with its kind and so its exit code. The table is the
// vocabulary: a new code, a code with a second kind, or a code two classes share fails
// here until it is written down. The codes are read from the sources (each `super("code"`
// in an errors module, each inline `new PondError("code"`), so the table cannot drift.
import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { EXIT_CODES, type ErrorKind } from "@pond/diagnostics";

const ROOT = resolve(import.meta.dir, "..");

/** code → kind. The exit code is EXIT_CODES[kind]: user 1, usage 2, busy 3, integrity 4, bug 70. */
const CODES: Record<string, ErrorKind> = {
  // diagnostics
  libc_unavailable: "bug",
  // tinyfs
  not_found: "user",
  already_exists: "user",
  duplicate_name: "bug",
  invalid_path: "user",
  invalid_name: "user",
  wrong_type: "user",
  type_change: "user",
  integrity: "integrity",
  read_only: "bug",
  symlink_loop: "user",
  commit_conflict: "busy",
  transaction_closed: "bug",
  is_directory: "user",
  invalid_move: "user",
  // oplog
  control_file_damaged: "integrity",
  object_not_found: "user",
  invalid_key: "bug",
  table_not_found: "user",
  version_not_found: "user",
  unsupported_feature: "user",
  corrupt_log: "integrity",
  undecodable: "integrity",
  entry_partition_mismatch: "bug",
  remote_unreachable: "user",
  remote_timeout: "user",
  remote_access_denied: "user",
  remote_bucket_not_found: "user",
  remote_error: "user",
  // tlogfs
  duckdb_unavailable: "user",
  sql_failed: "user",
  query_error: "user",
  pond_format: "integrity",
  bad_csv: "user",
  not_parquet: "user",
  bad_parquet: "user",
  bad_sql: "usage",
  null_timestamp: "user",
  series_timestamp_mismatch: "user",
  series_type_mismatch: "user",
  bad_time: "usage",
  no_timestamp_column: "user",
  ambiguous_timestamp_column: "user",
  bad_timestamp_column: "user",
  not_queryable: "user",
  not_local: "integrity",
  // steward
  no_pond: "usage",
  not_a_pond: "user",
  pond_exists: "user",
  pond_dir_is_file: "user",
  pond_locked: "busy",
  lock_failed: "user",
  bad_setting: "usage",
  bad_as_of: "usage",
  mirror_read_only: "user",
  remote_not_found: "user",
  remote_exists: "user",
  no_remote: "usage",
  bad_remote: "usage",
  secret_on_command_line: "usage",
  missing_credentials: "user",
  remote_other_pond: "user",
  not_a_pond_remote: "user",
  remote_diverged: "user",
  remote_object_corrupt: "integrity",
  remote_object_missing: "integrity",
  restore_target: "user",
  snapshot_expired: "user",
  bad_option: "usage",
  unknown_config_key: "usage",
  // collect
  bad_collect_config: "user",
  missing_secret: "user",
  http_failed: "user",
  collect_failed: "user",
  bad_response: "user",
  bad_profile: "user",
  profile_needs_timezone: "usage",
  unknown_profile: "usage",
  inbox_missing: "user",
  // present
  export_name_clash: "user",
  export_no_time_column: "user",
  export_manifest_invalid: "user",
  bad_reduce_config: "user",
  reduce_not_series: "user",
  reduce_of_reduction: "user",
  reduce_name_clash: "user",
  reduce_no_time_column: "user",
  reduce_output_exists: "user",
  reduce_output_owned: "user",
  reduce_no_columns: "user",
  bad_site_config: "user",
  // serve
  route_not_found: "user",
  method_not_allowed: "user",
  body_too_large: "user",
  unauthorized: "user",
  bad_request: "user",
  not_acceptable: "user",
  query_timeout: "user",
  pond_unavailable: "user",
  shutting_down: "user",
  bad_listen: "usage",
  bad_idle_timeout: "usage",
  bad_token: "usage",
  site_build_failed: "user",
  // serve (streaming ingest)
  bad_ingest_input: "user",
  ingest_unknown_destination: "user",
  ingest_wrong_destination: "user",
  ingest_locked: "busy",
  bad_ingest_option: "usage",
  ingest_wal_damaged: "integrity",
  ingest_flush_failed: "user",
  ingest_replay_failed: "user",
  // cmd
  usage: "usage",
  bad_endpoint: "usage",
  host_not_found: "user",
  host_permission: "user",
  host_not_regular: "user",
  host_name_clash: "user",
  host_changed: "user",
  host_dangling_symlink: "user",
  host_symlink_loop: "user",
  bad_config_set: "usage",
  no_collectors: "user",
  no_reductions: "user",
};

interface Site {
  code: string;
  kind: ErrorKind;
  /** The class that raises it, or undefined for an inline `new PondError`. */
  cls?: string;
  file: string;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith("-contract.ts")) out.push(p);
  }
  return out;
}

function sites(): Site[] {
  const out: Site[] = [];
  const at = /(super|new PondError)\(\s*"([a-z_]+)"/g;
  for (const f of sources(join(ROOT, "packages"))) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(at)) {
      // The options of this one call: up to the next call, or the end of its block.
      const rest = text.slice(m.index! + m[0].length);
      const end = rest.search(/(super|new PondError)\(|\n\}|\n {2}\}\n/);
      const kind = (/kind: "(\w+)"/.exec(end < 0 ? rest : rest.slice(0, end))?.[1] ?? "user") as ErrorKind;
      const classes = [...text.slice(0, m.index).matchAll(/class (\w+) extends/g)];
      const cls = m[1] === "super" ? classes[classes.length - 1]?.[1] : undefined;
      out.push({ code: m[2]!, kind, cls, file: relative(ROOT, f) });
    }
  }
  return out;
}

describe("error codes", () => {
  const all = sites();

  test("every code raised is in the table, and every code in the table is raised", () => {
    const raised = new Set(all.map((s) => s.code));
    expect([...raised].filter((c) => !(c in CODES)).sort()).toEqual([]);
    expect(Object.keys(CODES).filter((c) => !raised.has(c))).toEqual([]);
  });

  test("each code has one kind, the table's, and so one exit code", () => {
    const wrong = all.filter((s) => s.kind !== CODES[s.code]).map((s) => `${s.code} is ${s.kind} in ${s.file}`);
    expect(wrong).toEqual([]);
    for (const kind of Object.values(CODES)) expect(EXIT_CODES[kind]).toBeGreaterThan(0);
  });

  test("a code belongs to one class: no two classes share one, and no file mints a class's code inline", () => {
    const owner = new Map<string, string>();
    const shared: string[] = [];
    for (const s of all.filter((s) => s.cls)) {
      const o = owner.get(s.code);
      if (o && o !== s.cls) shared.push(`${s.code}: ${o} and ${s.cls}`);
      owner.set(s.code, s.cls!);
    }
    expect(shared).toEqual([]);
    const inline = all.filter((s) => !s.cls).map((s) => `${s.code} in ${s.file}`);
    expect(inline).toEqual([]);
  });

  test("the list, printed: code, kind, exit code", () => {
    const lines = Object.entries(CODES).map(([code, kind]) => `${code.padEnd(28)} ${kind.padEnd(10)} ${EXIT_CODES[kind]}`);
    console.log(lines.join("\n"));
    expect(lines.length).toBe(Object.keys(CODES).length);
  });
});
