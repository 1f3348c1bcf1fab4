/**
 * Every command of the CLI, declared once. To add one:
 *
 *   export const fooCommand = command({
 *     name: "foo",
 *     describe: "One line for `pond --help`",
 *     positionals: [{ name: "path", required: true, describe: "A pond path" }],   // in order; `variadic: true` takes the rest
 *     options: {
 *       asOf,                                                                   // shared declarations below
 *       limit: { type: "number", short: "n", min: 1, integer: true, describe: "..." },   // --limit / -n
 *       format: { type: "string", choices: ["text", "json"], default: "text", describe: "..." },
 *     },
 *     load: () => import("./commands/foo.ts"),
 *   });
 *
 * and add it to COMMANDS. The command file exports
 * `run(args: ArgsOf<typeof fooCommand>, io: IO)`: `args.path` is a string, `args.limit`
 * `number | undefined`, `args.format` `"text" | "json"` (option keys are camelCase; the
 * flag is their kebab-case: `asOf` is `--as-of`). Every positional and option needs a
 * `describe` (a test checks each command's `--help`). This file must stay cheap to load:
 * `--help` and completion read it without loading any command.
 */
import type { CommandDecl } from "./args.ts";
import type { IO } from "./io.ts";

/** A command's implementation: a function of its parsed options and an IO. */
export interface CommandModule {
  // The parameter is each command's own ArgsOf type; the registry only passes parseCommand's result through.
  // biome-ignore lint/suspicious/noConfusingVoidType: a command that returns nothing exits 0
  run(args: never, io: IO): Promise<number | void>;
}

/** One command: its declaration, and where its code lives (loaded lazily). */
export type Command = CommandDecl & { load: () => Promise<unknown> };

/** Keeps the declaration's literal types, so `ArgsOf<typeof x>` knows each option's type. */
function command<const D extends Command>(d: D): D {
  return d;
}

/** Where an S3 remote is and which environment variables hold its credentials (references only, never values). */
const remoteLocation = {
  endpoint: { type: "string", valueName: "url", describe: "S3 endpoint URL, e.g. http://127.0.0.1:9000 (default: AWS for the region)" },
  region: { type: "string", describe: "S3 region (default: $AWS_REGION or us-east-1)" },
  accessKeyId: { type: "string", valueName: "ref", describe: "A reference like '${env:MY_KEY_ID}' (default: $AWS_ACCESS_KEY_ID); literal secrets are refused" },
  secretAccessKey: { type: "string", valueName: "ref", describe: "A reference like '${env:MY_SECRET}' (default: $AWS_SECRET_ACCESS_KEY)" },
  sessionToken: { type: "string", valueName: "ref", describe: "A reference like '${env:MY_TOKEN}' (default: $AWS_SESSION_TOKEN)" },
} as const;

const asOf = { type: "string", valueName: "seq|time", describe: "Read the pond as of a transaction sequence (from `pond log`) or an ISO 8601 time" } as const;
const rowFormat = {
  type: "string",
  choices: ["table", "csv", "json", "jsonl", "parquet"],
  describe: "Rows as (default: table on a terminal, csv when piped). json/jsonl: NaN and ±Infinity are null; a repeated column name gets a _1, _2… suffix",
} as const;
const textJson = { type: "string", choices: ["text", "json"], default: "text", describe: "Output format" } as const;
const textJsonCsv = { type: "string", choices: ["text", "json", "csv"], default: "text", describe: "Output format" } as const;
const timeStart = { type: "string", valueName: "time", describe: "Keep rows at or after this time (ISO 8601 or epoch seconds)" } as const;
const timeEnd = { type: "string", valueName: "time", describe: "Keep rows before this time (ISO 8601 or epoch seconds)" } as const;

export const initCommand = command({
  name: "init",
  describe: "Create a new, empty pond in the --pond folder",
  load: () => import("./commands/init.ts"),
});

export const mkdirCommand = command({
  name: "mkdir",
  describe: "Create directories in the pond",
  positionals: [{ name: "paths", required: true, variadic: true, describe: "Pond paths of the directories" }],
  options: {
    parents: { type: "boolean", short: "p", default: false, describe: "Create missing parents; an existing directory is fine" },
  },
  load: () => import("./commands/mkdir.ts"),
});

export const listCommand = command({
  name: "list",
  aliases: ["ls"],
  describe: "List entries: no pattern lists everything; '/dir/' lists its children; globs *, **, ?, [..], {a,b}",
  positionals: [{ name: "pattern", describe: "A pond path or glob (default: everything)" }],
  options: {
    long: { type: "boolean", short: "l", default: false, describe: "Show type, size, version and time" },
    all: { type: "boolean", short: "a", default: false, describe: "Include names that start with a dot" },
    format: textJsonCsv,
    asOf,
  },
  load: () => import("./commands/list.ts"),
});

export const copyCommand = command({
  name: "copy",
  aliases: ["cp"],
  describe: "Copy host files into the pond (host:///abs, host:rel, host+table:, host+csv:, host+series:, host+series+csv:), or pond files out to host:///dir",
  positionals: [
    { name: "sources", required: true, variadic: true, describe: "Host files or folders to copy in, or pond paths and globs to copy out" },
    { name: "dest", required: true, describe: "A pond path (copy in) or host:///folder (copy out)" },
  ],
  options: {
    parents: { type: "boolean", short: "p", default: false, describe: "Create missing parent directories" },
    dereference: { type: "boolean", default: true, describe: "Follow host symlinks in folders (--no-dereference: store them as pond symlinks)" },
    timestampColumn: { type: "string", valueName: "column", describe: "Series: the event-time column (default: detected)" },
    delimiter: { type: "string", valueName: "char", describe: "CSV: field delimiter (default: sniffed)" },
    header: { type: "boolean", describe: "CSV: the first row is a header (--no-header: it is data)" },
    skip: { type: "number", min: 0, integer: true, describe: "CSV: lines to skip before the header" },
    nullString: { type: "string", valueName: "text", describe: "CSV: the text that means NULL" },
    timestampFormat: { type: "string", valueName: "format", describe: "CSV: strptime format of timestamps" },
    timezone: { type: "string", valueName: "zone", describe: "CSV: time zone of timestamps without an offset" },
    sql: {
      type: "string",
      valueName: "select",
      describe: "Store the result of this SELECT over the file as the table `source` (CSV, or host+series: Parquet)",
    },
    profile: {
      type: "string",
      choices: ["laketech", "ysi", "usgs-rdb", "insitu"],
      describe: "A named recipe for an instrument export (README: Instrument exports)",
    },
    allowDuplicate: { type: "boolean", default: false, describe: "Series: append even when a version already holds the same data" },
  },
  load: () => import("./commands/copy.ts"),
});

export const catCommand = command({
  name: "cat",
  describe: "Print a file: bytes of a data file, rows of a table or series",
  positionals: [{ name: "path", required: true, describe: "A pond path, or host+csv:/host+table:/host+delta: for host mode" }],
  options: {
    version: { type: "number", min: 1, integer: true, describe: "Print this version instead of the newest" },
    format: rowFormat,
    sql: { type: "string", describe: "Run SQL over the file as the table `source`" },
    timeStart,
    timeEnd,
    delimiter: { type: "string", valueName: "char", describe: "host+csv: field delimiter (default: sniffed)" },
    header: { type: "boolean", describe: "host+csv: the first row is a header (--no-header: it is data)" },
    skip: { type: "number", min: 0, integer: true, describe: "host+csv: lines to skip before the header" },
    nullString: { type: "string", valueName: "text", describe: "host+csv: the text that means NULL" },
    timestampFormat: { type: "string", valueName: "format", describe: "host+csv: strptime format of timestamps" },
    asOf,
  },
  load: () => import("./commands/cat.ts"),
});

export const queryCommand = command({
  name: "query",
  aliases: ["sql"],
  describe: "Run SQL: quoted pond paths and globs after FROM/JOIN are tables, e.g. SELECT * FROM '/sensors/*.series'",
  positionals: [{ name: "sql", required: true, describe: "One SELECT query" }],
  options: {
    format: rowFormat,
    timeStart: { ...timeStart, describe: "Keep series rows at or after this time (ISO 8601 or epoch seconds)" },
    timeEnd: { ...timeEnd, describe: "Keep series rows before this time (ISO 8601 or epoch seconds)" },
    asOf,
  },
  load: () => import("./commands/query.ts"),
});

export const exportCommand = command({
  name: "export",
  describe:
    "Write tables and series to a host folder or an S3 bucket/prefix as a Hive-partitioned dataset (name=…/year=…/month=…/part-0.parquet) that DuckDB, Spark or pandas read as one table; a rerun replaces what the last export there wrote and leaves other files alone",
  positionals: [
    { name: "pattern", required: true, describe: "A pond path or glob of tables and series, e.g. '/stations/*.series'" },
    {
      name: "dest",
      required: true,
      describe:
        "The host folder, host:///absolute/dir or host:relative/dir (made if missing), or s3://bucket/prefix (files are uploaded under the prefix; the bucket must exist)",
    },
  ],
  options: {
    format: { type: "string", choices: ["parquet", "csv"], default: "parquet", describe: "File format of the dataset" },
    partition: { type: "string", choices: ["year", "month", "day"], describe: "Time partitions under each name=… folder (default: one file a source)" },
    timeStart,
    timeEnd,
    asOf,
    remote: {
      type: "string",
      valueName: "name",
      describe:
        "For an s3:// destination: take the endpoint, region and credential references of this configured remote (`pond remote list`); the options below override them",
    },
    ...remoteLocation,
    report: { type: "string", choices: ["text", "json"], default: "text", describe: "What to print: one line a file (text), or the whole report as JSON" },
  },
  load: () => import("./commands/export.ts"),
});

export const describeCommand = command({
  name: "describe",
  describe: "Show an entry's type, node id and every version",
  positionals: [{ name: "path", required: true, describe: "A pond path" }],
  options: { format: textJson, asOf },
  load: () => import("./commands/describe.ts"),
});

export const rmCommand = command({
  name: "rm",
  describe: "Remove files and symlinks (-r: directories too); globs work; earlier states stay readable with --as-of",
  positionals: [{ name: "paths", required: true, variadic: true, describe: "Pond paths or globs" }],
  options: {
    recursive: { type: "boolean", short: "r", default: false, describe: "Remove directories and everything in them" },
    force: { type: "boolean", short: "f", default: false, describe: "A path or pattern that matches nothing is not an error" },
  },
  load: () => import("./commands/rm.ts"),
});

export const mvCommand = command({
  name: "mv",
  describe: "Rename or move entries (SRC... DEST); node ids and versions are kept",
  positionals: [{ name: "paths", required: true, variadic: true, describe: "SRC... DEST: what to move, then where" }],
  load: () => import("./commands/mv.ts"),
});

export const lnCommand = command({
  name: "ln",
  describe: "Make a symbolic link: pond ln -s TARGET LINK",
  positionals: [
    { name: "target", required: true, describe: "What the link points at (absolute, or relative to the link's directory)" },
    { name: "link", required: true, describe: "The link's path (an existing directory: inside it)" },
  ],
  options: {
    symbolic: { type: "boolean", short: "s", default: false, describe: "A symbolic link (the only kind pond has)" },
  },
  load: () => import("./commands/ln.ts"),
});

export const diffCommand = command({
  name: "diff",
  describe: "What changed between two transactions SEQ1 [SEQ2] (default: now): paths, or (--rows PATH) the rows of one table or series",
  positionals: [
    { name: "seq1", required: true, describe: "The earlier transaction sequence (from `pond log`)" },
    { name: "more", variadic: true, describe: "[SEQ2] (default: now), then PATH with --rows" },
  ],
  options: {
    rows: { type: "boolean", default: false, describe: "Rows of one table or series inserted and deleted, with a change_type column" },
    format: { type: "string", choices: ["text", "json", "table", "csv", "jsonl"], describe: "text or json (paths); table, csv, json or jsonl (rows)" },
  },
  load: () => import("./commands/diff.ts"),
});

export const revertCommand = command({
  name: "revert",
  describe: "A new transaction making the pond (or PATHs) as it was at SEQ; --dry-run shows the changes",
  positionals: [
    { name: "seq", required: true, describe: "The transaction sequence to go back to (from `pond log`)" },
    { name: "paths", variadic: true, describe: "Only these pond paths" },
  ],
  options: {
    dryRun: { type: "boolean", default: false, describe: "Print the changes and write nothing" },
    format: textJson,
  },
  load: () => import("./commands/revert.ts"),
});

export const showCommand = command({
  name: "show",
  describe: "Show the data log's commits (version, time, actions, bytes added)",
  options: { format: textJsonCsv },
  load: () => import("./commands/show.ts"),
});

export const logCommand = command({
  name: "log",
  describe: "Show the history of write transactions, newest first",
  options: {
    limit: { type: "number", short: "n", min: 1, integer: true, describe: "Show at most N transactions" },
    format: textJson,
  },
  load: () => import("./commands/log.ts"),
});

export const recoverCommand = command({
  name: "recover",
  describe: "Settle transactions a crash left unfinished and remove what they left behind",
  options: { format: textJson },
  load: () => import("./commands/recover.ts"),
});

export const remoteCommand = command({
  name: "remote",
  describe: "Manage remotes: add NAME s3://bucket/prefix|file:///folder, list, remove NAME",
  positionals: [
    { name: "action", required: true, choices: ["add", "list", "remove"], describe: "What to do" },
    { name: "name", describe: "The remote's name (add, remove)" },
    { name: "url", describe: "add: s3://bucket/prefix or file:///absolute/folder" },
  ],
  options: {
    ...remoteLocation,
    mode: {
      type: "string",
      choices: ["push", "pull", "manual"],
      describe: "push: also push after every write; pull: this pond mirrors the remote (read-only); default manual",
    },
    format: textJsonCsv,
  },
  load: () => import("./commands/remote.ts"),
});

export const pushCommand = command({
  name: "push",
  describe: "Upload what a remote lacks (default: every remote that is not a pull source)",
  positionals: [{ name: "name", describe: "The remote (default: every push or manual remote)" }],
  options: { format: textJson },
  load: () => import("./commands/push.ts"),
});

export const pullCommand = command({
  name: "pull",
  describe: "Bring a mirror up to its remote's tip",
  positionals: [{ name: "name", describe: "The remote (default: the one this pond mirrors)" }],
  options: { format: textJson },
  load: () => import("./commands/pull.ts"),
});

export const restoreCommand = command({
  name: "restore",
  describe: "Restore a whole pond, history included, from a remote into a new --pond folder (a read-only mirror unless --writable)",
  positionals: [{ name: "url", required: true, describe: "s3://bucket/prefix or file:///absolute/folder" }],
  options: {
    ...remoteLocation,
    name: { type: "string", describe: "The remote's name in the restored pond (default origin)" },
    writable: { type: "boolean", default: false, describe: "A writable pond that takes over the remote (when the original is lost)" },
    format: textJson,
  },
  load: () => import("./commands/restore.ts"),
});

export const verifyCommand = command({
  name: "verify",
  describe: "Compare this pond with a remote: what matches, what is behind, what is wrong (exit 4)",
  positionals: [{ name: "name", describe: "The remote (default: the only one, or the one mirrored)" }],
  options: {
    deep: { type: "boolean", default: false, describe: "Download and re-hash every remote object" },
    format: textJson,
  },
  load: () => import("./commands/verify.ts"),
});

export const statusCommand = command({
  name: "status",
  describe: "Show the pond's id, newest transaction, and its remotes and how far each is behind",
  options: { format: textJson },
  load: () => import("./commands/status.ts"),
});

export const completionCommand = command({
  name: "completion",
  describe: "Print a shell completion script: `source <(pond completion bash)`, or see `pond completion --help`",
  positionals: [
    {
      name: "shell",
      required: true,
      choices: ["bash", "zsh", "fish"],
      describe: "bash: source <(pond completion bash); zsh: source <(pond completion zsh); fish: pond completion fish | source",
    },
  ],
  load: () => import("./commands/completion.ts"),
});

export const maintainCommand = command({
  name: "maintain",
  describe:
    "Maintenance: list snapshots, expire old ones (logical), merge small series files, clean up unneeded files, write a checkpoint, or full (all in order)",
  positionals: [
    { name: "action", required: true, choices: ["snapshots", "expire", "merge", "cleanup", "checkpoint", "full"], describe: "What to do" },
    { name: "pattern", describe: "merge: the series to merge, a pond path or glob (default: every series)" },
  ],
  options: {
    targetSize: {
      type: "string",
      valueName: "size",
      describe: "merge/full: largest merged file, in bytes of the versions it holds (default: `pond config` maintain.target-size, 128MiB)",
    },
    maxInputFiles: {
      type: "number",
      min: 2,
      integer: true,
      describe: "merge/full: read at most this many files in one run (default: `pond config` maintain.max-input-files, 1000)",
    },
    olderThan: { type: "string", valueName: "duration", describe: "expire/full: expire snapshots committed longer ago than this (30d, 12h, 0s)" },
    keepLast: { type: "number", min: 1, integer: true, describe: "expire/full: keep only the newest N snapshots" },
    retention: {
      type: "string",
      valueName: "duration",
      describe: "cleanup/full: delete only files unneeded for longer than this (default: `pond config` maintain.retention, 7d)",
    },
    dryRun: { type: "boolean", default: false, describe: "Report what would be done; change nothing" },
    format: textJsonCsv,
  },
  load: () => import("./commands/maintain.ts"),
});

export const fsckCommand = command({
  name: "fsck",
  describe: "Check every unexpired snapshot: files, sizes, hashes, Parquet footers, the log; exit 4 when anything is wrong",
  options: {
    quick: { type: "boolean", default: false, describe: "Skip the sha256 of payloads" },
    format: textJson,
  },
  load: () => import("./commands/fsck.ts"),
});

export const configCommand = command({
  name: "config",
  describe:
    "Show this pond's settings, or set one: pond config set KEY VALUE (keys: maintain.retention, maintain.older-than, maintain.keep-last, maintain.target-size, maintain.max-input-files, maintain.auto, maintain.auto-merge-after, maintain.auto-budget, maintain.control-archive-after)",
  positionals: [
    { name: "action", choices: ["show", "set"], describe: "show (default) or set" },
    {
      name: "key",
      describe:
        "The setting (default): maintain.retention (7d), maintain.older-than (unset), maintain.keep-last (unset), maintain.target-size (128MiB), maintain.max-input-files (1000), maintain.auto (on), maintain.auto-merge-after (100), maintain.auto-budget (10s), maintain.control-archive-after (1MiB)",
    },
    { name: "value", describe: "Its new value, e.g. 14d" },
  ],
  options: { format: textJson },
  load: () => import("./commands/config.ts"),
});

export const siteCommand = command({
  name: "site",
  describe: "Build a static web site of the pond's series (charts, offline, no server needed): site build host:///folder",
  positionals: [
    { name: "action", required: true, choices: ["build"], describe: "build: write the site" },
    { name: "dest", required: true, describe: "The host folder, host:///absolute/dir or host:relative/dir (new, empty, or a site built before)" },
  ],
  options: {
    asOf,
    format: { type: "string", choices: ["text", "json"], default: "text", describe: "What to print: a summary (text), or the whole report as JSON" },
  },
  load: () => import("./commands/site.ts"),
});

export const chartCommand = command({
  name: "chart",
  describe: "Draw one chart of a series to an SVG or PNG file, without a browser",
  positionals: [{ name: "path", required: true, describe: "A pond series, e.g. /st/lake.series" }],
  options: {
    out: { type: "string", valueName: "host:///x.svg|x.png", describe: "The file to write (required): .svg or .png (host:///absolute or host:relative)" },
    columns: { type: "string", valueName: "a,b", describe: "Columns to draw, comma-separated (default: every numeric column)" },
    timeStart,
    timeEnd,
    width: { type: "number", min: 200, integer: true, default: 900, describe: "Width in pixels (at most 8000)" },
    title: { type: "string", describe: "Title above the chart (default: the path)" },
    asOf,
  },
  load: () => import("./commands/chart.ts"),
});

/** The ingest thresholds and dedup flags, shared by `pond ingest` and `pond serve` (its ingest part). */
export const ingestFlags = {
  flushRows: { type: "number", min: 1, integer: true, default: 10_000, describe: "Flush a destination's buffer to a new version at this many rows" },
  flushBytes: { type: "string", valueName: "size", default: "32MiB", describe: "... or at this much accepted input (32MiB, 64MB, bytes)" },
  flushInterval: { type: "string", valueName: "duration", default: "60s", describe: "... or this long after its first unflushed row (10s, 5m)" },
  dedupKey: {
    type: "string",
    valueName: "cols",
    describe: "Drop a row whose key (these columns, comma-separated) was seen within --dedup-window; ?key= (HTTP) or --key overrides it",
  },
  dedupWindow: { type: "string", valueName: "duration", default: "5m", describe: "The dedup window, in event time (the newest row's time back)" },
} as const;

export const serveCommand = command({
  name: "serve",
  describe: "Serve the pond over HTTP: GET /health, /status, /metrics, the site at /; POST /sql; streaming ingest",
  options: {
    listen: {
      type: "string",
      valueName: "host:port",
      default: "127.0.0.1:8080",
      describe: "Where to listen; port 0 takes a free port (the address is printed on stderr)",
    },
    token: {
      type: "string",
      valueName: "ref",
      describe: "A reference like '${env:POND_TOKEN}': every request then needs Authorization: Bearer <token>; required off loopback; literals are refused",
    },
    queryTimeout: { type: "string", valueName: "duration", default: "30s", describe: "Cancel a POST /sql query running longer than this (e.g. 30s, 2m): 408" },
    idleTimeout: {
      type: "string",
      valueName: "duration",
      describe:
        "Close a keep-alive connection idle this long, 1s to 255s (default: --query-timeout plus 5s, at least 10s; a query sending nothing this long is cut)",
    },
    // The same flags, parsed by the same code (ingestOptionsFrom), as `pond ingest`.
    ...ingestFlags,
  },
  load: () => import("./commands/serve.ts"),
});

/** Every command, in the order `pond --help` lists them. */
export const collectCommand = command({
  name: "collect",
  describe: "Run collectors: every config under /etc/collect/, or the one named (HydroVu, inbox)",
  positionals: [{ name: "config", describe: "A config in the pond, e.g. /etc/collect/hydrovu.yaml (default: all under /etc/collect/)" }],
  options: {
    dryRun: { type: "boolean", default: false, describe: "Say what each collector would fetch; write nothing" },
    wait: { type: "number", min: 0, default: 60, valueName: "seconds", describe: "Seconds to wait for the pond's write lock" },
    listLocations: { type: "boolean", default: false, describe: "HydroVu: print the account's locations (to fill devices:)" },
    thenReduce: {
      type: "boolean",
      default: false,
      describe: "Then run every reduction under /etc/reduce/ (as `pond reduce`; with --format json, its JSON follows the collectors')",
    },
    format: textJson,
  },
  load: () => import("./commands/collect.ts"),
});

export const ingestCommand = command({
  name: "ingest",
  describe: "Stream rows from standard input into a series (or CDC events into a table): write-ahead file, batched versions, dedup",
  positionals: [{ name: "path", required: true, describe: "A pond path: an existing series or table, or a new one inside an existing directory" }],
  options: {
    ...ingestFlags,
    key: { type: "string", valueName: "cols", describe: "Dedup key columns for this stream (over --dedup-key)" },
    dedupSequence: {
      type: "string",
      valueName: "column",
      describe:
        "Dedup by a number that grows per source instead of a time window: a row not above its source's last is dropped (the key columns name the source)",
    },
    format: {
      type: "string",
      choices: ["jsonl", "csv"],
      default: "jsonl",
      describe: "Input: JSON lines (rows, or CDC events {sequence, operation, rowId, after}), or CSV with a header",
    },
    timestampColumn: { type: "string", valueName: "column", describe: "The time column of a new series (default: timestamp, time, ts… by name)" },
    ack: {
      type: "boolean",
      default: false,
      describe: "Print one JSON line on stdout per batch once it is in the write-ahead file: {lines, accepted, deduplicated} (lines: input lines taken so far)",
    },
  },
  load: () => import("./commands/ingest.ts"),
});

export const reduceCommand = command({
  name: "reduce",
  describe: "Downsample series: run every reduction config under /etc/reduce/, or the one named; writes <out>/<name>/res=<dur>.series, incrementally",
  positionals: [
    {
      name: "config",
      describe:
        "A config in the pond, /etc/reduce/lake.yaml or just lake (default: all under /etc/reduce/). A config: in: /st/*.series, out: /reduced, resolutions: [1h, 6h, 1d, 7d], aggregations: [avg, min, max] (or {temp: [avg, max]}), lateness: 1d",
    },
  ],
  options: {
    dryRun: { type: "boolean", default: false, describe: "Say what each output would read and recompute; write nothing" },
    wait: { type: "number", min: 0, default: 60, valueName: "seconds", describe: "Seconds to wait for the pond's write lock" },
    format: textJson,
  },
  load: () => import("./commands/reduce.ts"),
});

export const COMMANDS: readonly Command[] = [
  initCommand,
  mkdirCommand,
  listCommand,
  copyCommand,
  collectCommand,
  ingestCommand,
  reduceCommand,
  catCommand,
  queryCommand,
  exportCommand,
  siteCommand,
  chartCommand,
  serveCommand,
  describeCommand,
  rmCommand,
  mvCommand,
  lnCommand,
  diffCommand,
  revertCommand,
  showCommand,
  logCommand,
  recoverCommand,
  remoteCommand,
  pushCommand,
  pullCommand,
  restoreCommand,
  verifyCommand,
  statusCommand,
  maintainCommand,
  fsckCommand,
  configCommand,
  completionCommand,
];

/** The command named `word` (or one of its aliases). */
export function findCommand(word: string): Command | undefined {
  return COMMANDS.find((c) => c.name === word || c.aliases?.includes(word));
}
