import type { ArgSpec } from "./args.ts";
import type { IO } from "./io.ts";

/** A command's implementation: a function of its parsed options and an IO. */
export interface CommandModule {
  run(args: Record<string, unknown>, io: IO): Promise<number | void>;
}

/** One command of the CLI: how yargs parses it, and where its code lives (loaded lazily). */
export interface CommandSpec {
  command: string;
  aliases?: string[];
  describe: string;
  builder: (y: ArgSpec) => ArgSpec;
  load: () => Promise<CommandModule>;
}

/** Where an S3 remote is and which environment variables hold its credentials (references only, never values). */
const remoteLocation = (y: ArgSpec) =>
  y.option("endpoint", { type: "string", describe: "S3 endpoint URL, e.g. http://127.0.0.1:9000 (default: AWS for the region)" })
    .option("region", { type: "string", describe: "S3 region (default: $AWS_REGION or us-east-1)" })
    .option("access-key-id", { type: "string", describe: "A reference like '${env:MY_KEY_ID}' (default: $AWS_ACCESS_KEY_ID); literal secrets are refused" })
    .option("secret-access-key", { type: "string", describe: "A reference like '${env:MY_SECRET}' (default: $AWS_SECRET_ACCESS_KEY)" })
    .option("session-token", { type: "string", describe: "A reference like '${env:MY_TOKEN}' (default: $AWS_SESSION_TOKEN)" });

const asOf = (y: ArgSpec) =>
  y.option("as-of", { type: "string", describe: "Read the pond as of a transaction sequence or an ISO 8601 time" });

/** Every command, in the order `pond --help` lists them. */
export const COMMANDS: CommandSpec[] = [
  {
    command: "init",
    describe: "Create a new, empty pond in the --pond folder",
    builder: (y) => y,
    load: () => import("./commands/init.ts"),
  },
  {
    command: "mkdir <paths..>",
    describe: "Create directories in the pond",
    builder: (y) =>
      y.positional("paths", { type: "string", array: true, describe: "Pond paths" })
        .option("p", { alias: "parents", type: "boolean", default: false, describe: "Create missing parents; an existing directory is fine" }),
    load: () => import("./commands/mkdir.ts"),
  },
  {
    command: "list [pattern]",
    aliases: ["ls"],
    describe: "List entries: no pattern lists everything; '/dir/' lists its children; globs *, **, ?, [..], {a,b}",
    builder: (y) =>
      asOf(y.positional("pattern", { type: "string", describe: "A pond path or glob" })
        .option("l", { alias: "long", type: "boolean", default: false, describe: "Show type, size, version and time" })
        .option("a", { alias: "all", type: "boolean", default: false, describe: "Include names that start with a dot" })
        .option("format", { choices: ["text", "json", "csv"] as const, default: "text", describe: "Output format" })),
    load: () => import("./commands/list.ts"),
  },
  {
    command: "copy <sources..>",
    aliases: ["cp"],
    describe: "Copy host files into the pond (host:///abs, host:rel, host+table:, host+csv:, host+series:, host+series+csv:), or pond files out to host:///dir",
    builder: (y) =>
      y.positional("sources", { type: "string", array: true, describe: "SRC... DEST" })
        .option("p", { alias: "parents", type: "boolean", default: false, describe: "Create missing parent directories" })
        .option("dereference", { type: "boolean", default: true, describe: "Follow host symlinks in folders (--no-dereference: store them as pond symlinks)" })
        .option("timestamp-column", { type: "string", describe: "Series: the event-time column (default: detected)" })
        .option("delimiter", { type: "string", describe: "CSV: field delimiter (default: sniffed)" })
        .option("header", { type: "boolean", describe: "CSV: the first row is a header (--no-header: it is data)" })
        .option("skip", { type: "number", describe: "CSV: lines to skip before the header" })
        .option("null-string", { type: "string", describe: "CSV: the text that means NULL" })
        .option("timestamp-format", { type: "string", describe: "CSV: strptime format of timestamps" })
        .option("timezone", { type: "string", describe: "CSV: time zone of timestamps without an offset" }),
    load: () => import("./commands/copy.ts"),
  },
  {
    command: "cat <path>",
    describe: "Print a file: bytes of a data file, rows of a table or series",
    builder: (y) =>
      asOf(y.positional("path", { type: "string", describe: "A pond path, or host+csv:/host+table:/host+delta: for host mode" })
        .option("version", { type: "number", describe: "Print this version instead of the newest" })
        .option("format", { choices: ["table", "csv", "json", "jsonl", "parquet"] as const, describe: "Rows as (default: table on a terminal, csv when piped)" })
        .option("sql", { type: "string", describe: "Run SQL over the file as the table `source`" })
        .option("time-start", { type: "string", describe: "Keep rows at or after this time (ISO 8601 or epoch seconds)" })
        .option("time-end", { type: "string", describe: "Keep rows before this time" })
        .option("delimiter", { type: "string", describe: "host+csv: field delimiter (default: sniffed)" })
        .option("header", { type: "boolean", describe: "host+csv: the first row is a header" })
        .option("skip", { type: "number", describe: "host+csv: lines to skip before the header" })
        .option("null-string", { type: "string", describe: "host+csv: the text that means NULL" })
        .option("timestamp-format", { type: "string", describe: "host+csv: strptime format of timestamps" })),
    load: () => import("./commands/cat.ts"),
  },
  {
    command: "query <sql>",
    aliases: ["sql"],
    describe: "Run SQL: quoted pond paths and globs after FROM/JOIN are tables, e.g. SELECT * FROM '/sensors/*.series'",
    builder: (y) =>
      asOf(y.positional("sql", { type: "string", describe: "One SELECT query" })
        .option("format", { choices: ["table", "csv", "json", "jsonl", "parquet"] as const, describe: "Rows as (default: table on a terminal, csv when piped)" })
        .option("time-start", { type: "string", describe: "Keep series rows at or after this time (ISO 8601 or epoch seconds)" })
        .option("time-end", { type: "string", describe: "Keep series rows before this time" })),
    load: () => import("./commands/query.ts"),
  },
  {
    command: "describe <path>",
    describe: "Show an entry's type, node id and every version",
    builder: (y) => asOf(y.positional("path", { type: "string" }).option("format", { choices: ["text", "json"] as const, default: "text" })),
    load: () => import("./commands/describe.ts"),
  },
  {
    command: "rm <paths..>",
    describe: "Remove files and symlinks (-r: directories too); globs work; earlier states stay readable with --as-of",
    builder: (y) =>
      y.positional("paths", { type: "string", array: true, describe: "Pond paths or globs" })
        .option("r", { alias: "recursive", type: "boolean", default: false, describe: "Remove directories and everything in them" })
        .option("f", { alias: "force", type: "boolean", default: false, describe: "A path or pattern that matches nothing is not an error" }),
    load: () => import("./commands/rm.ts"),
  },
  {
    command: "mv <paths..>",
    describe: "Rename or move entries (SRC... DEST); node ids and versions are kept",
    builder: (y) => y.positional("paths", { type: "string", array: true, describe: "SRC... DEST" }),
    load: () => import("./commands/mv.ts"),
  },
  {
    command: "ln <target> <link>",
    describe: "Make a symbolic link: pond ln -s TARGET LINK",
    builder: (y) =>
      y.positional("target", { type: "string", describe: "What the link points at (absolute, or relative to the link's directory)" })
        .positional("link", { type: "string", describe: "The link's path (an existing directory: inside it)" })
        .option("s", { alias: "symbolic", type: "boolean", default: false, describe: "A symbolic link (the only kind pond has)" }),
    load: () => import("./commands/ln.ts"),
  },
  {
    command: "diff <seq1> [more..]",
    describe: "What changed between two transactions (SEQ1 [SEQ2], default now); --rows SEQ1 [SEQ2] PATH: rows inserted/deleted",
    builder: (y) =>
      y.positional("seq1", { type: "string", describe: "The earlier transaction sequence" })
        .positional("more", { type: "string", array: true, describe: "[SEQ2] (and PATH with --rows)" })
        .option("rows", { type: "boolean", default: false, describe: "Rows of one table or series, with a change_type column (insert/delete)" })
        .option("format", { choices: ["text", "json", "table", "csv", "jsonl"] as const, describe: "text or json (paths); table, csv, json or jsonl (rows)" }),
    load: () => import("./commands/diff.ts"),
  },
  {
    command: "revert <seq> [paths..]",
    describe: "A new transaction making the pond (or PATHs) as it was at SEQ; --dry-run shows the changes",
    builder: (y) =>
      y.positional("seq", { type: "string", describe: "The transaction sequence to go back to" })
        .positional("paths", { type: "string", array: true, describe: "Only these pond paths" })
        .option("dry-run", { type: "boolean", default: false, describe: "Print the changes and write nothing" })
        .option("format", { choices: ["text", "json"] as const, default: "text" }),
    load: () => import("./commands/revert.ts"),
  },
  {
    command: "show",
    describe: "Show the data log's commits (version, time, actions, bytes added)",
    builder: (y) => y.option("format", { choices: ["text", "json", "csv"] as const, default: "text" }),
    load: () => import("./commands/show.ts"),
  },
  {
    command: "log",
    describe: "Show the history of write transactions, newest first",
    builder: (y) =>
      y.option("limit", { alias: "n", type: "number", describe: "Show at most N transactions" })
        .option("format", { choices: ["text", "json"] as const, default: "text" }),
    load: () => import("./commands/log.ts"),
  },
  {
    command: "recover",
    describe: "Settle transactions a crash left unfinished and remove what they left behind",
    builder: (y) => y.option("format", { choices: ["text", "json"] as const, default: "text" }),
    load: () => import("./commands/recover.ts"),
  },
  {
    command: "remote <action> [name] [url]",
    describe: "Manage remotes: add NAME s3://bucket/prefix|file:///folder, list, remove NAME",
    builder: (y) =>
      remoteLocation(
        y.positional("action", { type: "string", describe: "add, list or remove" })
          .positional("name", { type: "string", describe: "The remote's name" })
          .positional("url", { type: "string", describe: "s3://bucket/prefix or file:///absolute/folder" })
          .option("mode", { choices: ["push", "pull", "manual"] as const, describe: "push: also push after every write; pull: this pond mirrors the remote (read-only); default manual" })
          .option("format", { choices: ["text", "json", "csv"] as const, default: "text" }),
      ),
    load: () => import("./commands/remote.ts"),
  },
  {
    command: "push [name]",
    describe: "Upload what a remote lacks (default: every remote that is not a pull source)",
    builder: (y) => y.positional("name", { type: "string", describe: "The remote" }).option("format", { choices: ["text", "json"] as const, default: "text" }),
    load: () => import("./commands/push.ts"),
  },
  {
    command: "pull [name]",
    describe: "Bring a mirror up to its remote's tip",
    builder: (y) => y.positional("name", { type: "string", describe: "The remote (default: the one this pond mirrors)" }).option("format", { choices: ["text", "json"] as const, default: "text" }),
    load: () => import("./commands/pull.ts"),
  },
  {
    command: "restore <url>",
    describe: "Restore a whole pond, history included, from a remote into a new --pond folder (a read-only mirror unless --writable)",
    builder: (y) =>
      remoteLocation(
        y.positional("url", { type: "string", describe: "s3://bucket/prefix or file:///absolute/folder" })
          .option("name", { type: "string", describe: "The remote's name in the restored pond (default origin)" })
          .option("writable", { type: "boolean", default: false, describe: "A writable pond that takes over the remote (when the original is lost)" })
          .option("format", { choices: ["text", "json"] as const, default: "text" }),
      ),
    load: () => import("./commands/restore.ts"),
  },
  {
    command: "verify [name]",
    describe: "Compare this pond with a remote: what matches, what is behind, what is wrong (exit 4)",
    builder: (y) =>
      y.positional("name", { type: "string", describe: "The remote (default: the only one, or the one mirrored)" })
        .option("deep", { type: "boolean", default: false, describe: "Download and re-hash every remote object" })
        .option("format", { choices: ["text", "json"] as const, default: "text" }),
    load: () => import("./commands/verify.ts"),
  },
  {
    command: "status",
    describe: "Show the pond's id, newest transaction, and its remotes and how far each is behind",
    builder: (y) => y.option("format", { choices: ["text", "json"] as const, default: "text" }),
    load: () => import("./commands/status.ts"),
  },
];
