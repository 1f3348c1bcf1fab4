// The one module in Pond that talks to DuckDB (`@duckdb/node-api`, native).
//
// `@duckdb/node-api` is imported lazily inside `openDuckDB`, so importing this file costs
// nothing until SQL is used: `pond --version` and every command that runs no SQL never
// load the 70 MB native library. In the compiled `bin/pond`, packages/cmd/build.ts swaps
// `@duckdb/node-bindings` for a loader that extracts the embedded `duckdb.node` and
// `libduckdb.so` to a cache folder and `process.dlopen`s them (see README.md here).
//
// Values come back through DuckDB's JS converter: BIGINT/HUGEINT/UBIGINT as bigint,
// INTEGER and smaller as number, DECIMAL as number (a double: lossy past 15 digits),
// TIMESTAMP/DATE as Date (microseconds truncated to milliseconds), BLOB as Uint8Array,
// LIST as array, STRUCT as object, NULL as null.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isOneShotProcess } from "@pond/diagnostics";
import { SqlError } from "../errors.ts";

/** Runs a call into DuckDB; whatever the engine throws comes out as SqlError with its message. */
async function engine<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new SqlError(e instanceof Error ? e.message : String(e), e);
  }
}

export interface DuckColumn {
  name: string;
  /** DuckDB's own spelling of the type, e.g. `BIGINT`, `DECIMAL(10,2)`, `VARCHAR[]`. */
  type: string;
}

export interface DuckChunk {
  columns: DuckColumn[];
  rows: unknown[][];
}

export interface DuckOptions {
  /** DuckDB worker threads (default: DuckDB's own, the number of cores). */
  threads?: number;
  /** e.g. "512MB", "2GB" (default: DuckDB's own, 80% of RAM). */
  memoryLimit?: string;
  /**
   * Where DuckDB spills when a query exceeds memory. Default: a fresh folder under the
   * OS temp dir, removed by `close()`. DuckDB's own default (`.tmp` in the cwd) is never
   * used. It must be chosen here: DuckDB refuses to change it once anything spilled.
   */
  tempDirectory?: string;
}

/**
 * A statement bound once and run again: a caller asking the same query repeatedly (a
 * server's kept session) skips parsing and binding (for a view over 1,000 files, ~5–10 ms).
 */
export interface DuckPrepared {
  readonly columns: DuckColumn[];
  /**
   * Runs the statement and streams its result as `Duck.stream` does. One run at a time: a
   * new run (or any other statement on the connection) ends a result not read to its end.
   */
  stream(opts?: { minRows?: number }): AsyncIterable<DuckChunk>;
  /** Frees the statement (also done by closing the database). Idempotent. */
  close(): void;
}

export interface Duck {
  /** The spill folder this database was opened with (absolute). */
  readonly tempDirectory: string;
  /** Runs one or more statements; discards any result. */
  run(sql: string, params?: unknown[]): Promise<void>;
  /** Runs a query and returns every row as an object keyed by column name. */
  all(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Runs a query and returns its columns and every row as an array of values. */
  rows(sql: string, params?: unknown[]): Promise<DuckChunk>;
  /** Names and DuckDB types of a query's result columns, without running it. */
  columns(sql: string, params?: unknown[]): Promise<DuckColumn[]>;
  /**
   * Streams a query's result chunk by chunk (DuckDB vectors: up to 2048 rows each, or
   * `minRows` gathered). Only one chunk is in JS memory at a time. Breaking out of the
   * loop stops the query.
   */
  stream(sql: string, params?: unknown[], opts?: { minRows?: number }): AsyncIterable<DuckChunk>;
  /** One statement bound now, to run (and stream) any number of times; see DuckPrepared. */
  prepare(sql: string): Promise<DuckPrepared>;
  /** Statement kinds of a SQL text without running it, e.g. ["SELECT"], ["COPY"]. */
  statementTypes(sql: string): Promise<string[]>;
  /** Statement kinds and, for a single statement, its result columns: one bind each, nothing runs. */
  describe(sql: string): Promise<{ kinds: string[]; columns?: DuckColumn[] }>;
  /**
   * Closes the connection and the database; removes a default temp folder. Idempotent.
   * `last`: the command ends right after this. In a one-shot process (the `pond` binary,
   * see `markOneShotProcess`) the database is then left for the exit to reclaim: the
   * connection is still closed (stopping any query) and the temp folder removed.
   */
  close(opts?: { last?: boolean }): void;
  /**
   * Stops the statement running on this connection (from another task: a time limit).
   * The query's pending call then fails with DuckDB's "Interrupted" error; nothing
   * happens when none runs. The connection stays usable.
   */
  interrupt(): void;
}

type NodeApi = typeof import("@duckdb/node-api");
let api: Promise<NodeApi> | undefined;
function loadApi(): Promise<NodeApi> {
  // require, not import(): with code splitting, Bun's ESM wrapper of this CommonJS
  // package fails in the compiled binary ("m is not a function").
  api ??= Promise.resolve(require("@duckdb/node-api") as NodeApi);
  return api;
}

export async function openDuckDB(opts: DuckOptions = {}): Promise<Duck> {
  const duckdb = await loadApi();
  const ownTemp = opts.tempDirectory === undefined;
  const tempDirectory = ownTemp ? mkdtempSync(join(tmpdir(), "pond-duckdb-")) : resolve(opts.tempDirectory!);
  const config: Record<string, string> = {
    temp_directory: tempDirectory,
    // Never reach the network for an extension: parquet, json, icu and core_functions
    // are linked into libduckdb.so; anything else is an error, not a download.
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  };
  if (opts.threads !== undefined) config.threads = String(opts.threads);
  if (opts.memoryLimit !== undefined) config.memory_limit = opts.memoryLimit;
  let instance: InstanceType<NodeApi["DuckDBInstance"]>;
  try {
    instance = await duckdb.DuckDBInstance.create(":memory:", config);
  } catch (e) {
    if (ownTemp) rmSync(tempDirectory, { recursive: true, force: true });
    throw e;
  }
  const conn = await instance.connect();
  return new DuckImpl(duckdb, instance, conn, tempDirectory, ownTemp);
}

/** Databases `close({ last: true })` left open for the process exit to reclaim. */
const leftToExit: unknown[] = [];

type Api = NodeApi;
type Conn = Awaited<ReturnType<InstanceType<Api["DuckDBInstance"]>["connect"]>>;
type StreamedResult = Awaited<ReturnType<Conn["stream"]>>;

class DuckImpl implements Duck {
  private closed = false;
  constructor(
    private readonly duckdb: Api,
    private readonly instance: InstanceType<Api["DuckDBInstance"]>,
    private readonly conn: Conn,
    readonly tempDirectory: string,
    private readonly ownTemp: boolean,
  ) {}

  private check(): void {
    if (this.closed) throw new Error("DuckDB is closed");
  }

  private bind(params: unknown[] | undefined): [unknown[] | undefined, unknown[] | undefined] {
    if (!params || params.length === 0) return [undefined, undefined];
    const d = this.duckdb;
    const values: unknown[] = [];
    const types: unknown[] = [];
    for (const p of params) {
      if (typeof p === "bigint") {
        // node-api would bind every bigint as HUGEINT; BIGINT is what callers mean.
        values.push(p);
        types.push(p >= -(2n ** 63n) && p < 2n ** 63n ? d.BIGINT : d.HUGEINT);
      } else if (p instanceof Uint8Array) {
        values.push(d.blobValue(p));
        types.push(d.BLOB);
      } else if (p instanceof Date) {
        values.push(new d.DuckDBTimestampValue(BigInt(p.getTime()) * 1000n));
        types.push(d.TIMESTAMP);
      } else if (p === undefined) {
        values.push(null);
        types.push(undefined);
      } else {
        values.push(p);
        types.push(undefined);
      }
    }
    return [values, types];
  }

  private columnsOf(r: { columnCount: number; columnName(i: number): string; columnType(i: number): { toString(): string } }): DuckColumn[] {
    const cols: DuckColumn[] = [];
    for (let i = 0; i < r.columnCount; i++) cols.push({ name: r.columnName(i), type: r.columnType(i).toString() });
    return cols;
  }

  async run(sql: string, params?: unknown[]): Promise<void> {
    this.check();
    const [v, t] = this.bind(params);
    await engine(() => this.conn.run(sql, v as never, t as never));
  }

  async all(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]> {
    this.check();
    const [v, t] = this.bind(params);
    const reader = await engine(() => this.conn.runAndReadAll(sql, v as never, t as never));
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  async rows(sql: string, params?: unknown[]): Promise<DuckChunk> {
    this.check();
    const [v, t] = this.bind(params);
    const reader = await engine(() => this.conn.runAndReadAll(sql, v as never, t as never));
    return { columns: this.columnsOf(reader), rows: reader.getRowsJS() as unknown[][] };
  }

  async columns(sql: string, params?: unknown[]): Promise<DuckColumn[]> {
    this.check();
    const prepared = await engine(() => this.conn.prepare(sql));
    try {
      if (params?.length) {
        const [v, t] = this.bind(params);
        await engine(() => prepared.bind(v as never, t as never));
      }
      return this.columnsOf(prepared);
    } finally {
      prepared.destroySync();
    }
  }

  async *stream(sql: string, params?: unknown[], opts: { minRows?: number } = {}): AsyncIterable<DuckChunk> {
    this.check();
    const [v, t] = this.bind(params);
    const result = await engine(() => this.conn.stream(sql, v as never, t as never));
    yield* this.chunks(result, opts.minRows);
  }

  async prepare(sql: string): Promise<DuckPrepared> {
    this.check();
    const prepared = await engine(() => this.conn.prepare(sql));
    const columns = this.columnsOf(prepared);
    let freed = false;
    const self = this;
    return {
      columns,
      async *stream(opts: { minRows?: number } = {}) {
        self.check();
        if (freed) throw new Error("BUG: DuckPrepared.stream after close()");
        const result = await engine(() => prepared.stream());
        yield* self.chunks(result, opts.minRows);
      },
      close() {
        if (freed || self.closed) return; // closing the connection freed it
        freed = true;
        prepared.destroySync();
      },
    };
  }

  /** A streamed result's rows, `minRows` gathered a chunk (see `Duck.stream`). */
  private async *chunks(result: StreamedResult, minRows = 1): AsyncIterable<DuckChunk> {
    const columns = this.columnsOf(result);
    const convert = this.duckdb.JSDuckDBValueConverter;
    const min = Math.max(1, minRows);
    let pending: unknown[][] = [];
    for (;;) {
      const chunk = await engine(() => result.fetchChunk());
      if (!chunk || chunk.rowCount === 0) break;
      const rows = chunk.convertRows(convert) as unknown[][];
      if (pending.length === 0 && rows.length >= min) {
        yield { columns, rows };
        continue;
      }
      for (const r of rows) pending.push(r);
      if (pending.length >= min) {
        yield { columns, rows: pending };
        pending = [];
      }
    }
    if (pending.length > 0) yield { columns, rows: pending };
  }

  async statementTypes(sql: string): Promise<string[]> {
    return (await this.describe(sql)).kinds;
  }

  /**
   * The kind of each statement in `sql` and, when it is a single statement, its result
   * columns: each statement is prepared (bound) once and nothing runs. Binding a view
   * over many files is not free (~15 ms for 1,000), so a caller that needs both asks once.
   */
  async describe(sql: string): Promise<{ kinds: string[]; columns?: DuckColumn[] }> {
    this.check();
    let extracted: Awaited<ReturnType<typeof this.conn.extractStatements>>;
    try {
      extracted = await this.conn.extractStatements(sql);
    } catch (e) {
      // A text with no statement (blanks, comments, ";") makes the bindings throw this
      // message and nothing else; DuckDB's parser errors have their own.
      if (e instanceof Error && e.message === "Error in native callback") return { kinds: [] };
      throw new SqlError(e instanceof Error ? e.message : String(e), e);
    }
    const kinds: string[] = [];
    let columns: DuckColumn[] | undefined;
    for (let i = 0; i < extracted.count; i++) {
      const prepared = await engine(() => extracted.prepare(i));
      try {
        kinds.push(this.duckdb.StatementType[prepared.statementType] ?? String(prepared.statementType));
        if (extracted.count === 1) columns = this.columnsOf(prepared);
      } finally {
        prepared.destroySync();
      }
    }
    return columns ? { kinds, columns } : { kinds };
  }

  interrupt(): void {
    if (!this.closed) this.conn.interrupt();
  }

  close(opts: { last?: boolean } = {}): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.closeSync();
    } finally {
      if (opts.last && isOneShotProcess())
        leftToExit.push(this.instance); // never collected, so never torn down before the exit
      else this.instance.closeSync();
      if (this.ownTemp) rmSync(this.tempDirectory, { recursive: true, force: true });
    }
  }
}

/** A SQL string literal: single quotes doubled. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A SQL identifier: double quotes doubled. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/**
 * Locks a database down before it runs a user's query. In this order:
 * `SET allowed_directories=[…]`, `SET temp_directory=…`, `SET enable_external_access=false`,
 * `SET lock_configuration=true`. Afterwards the query can read (and, caution, write:
 * DuckDB does not tell the two apart) files only under `allowedDirectories` and the
 * temp folder; it cannot ATTACH files, INSTALL or LOAD extensions, or change a setting.
 * Views over files outside `allowedDirectories` fail when queried, even if created
 * before: register what a query needs, and allow its folders, before locking.
 *
 * `tempDirectory` must be the one the database was opened with (see `openDuckDB`):
 * DuckDB cannot switch it once used, so an equal value is accepted as already set.
 */
export async function sandbox(duck: Duck, allowedDirectories: string[], tempDirectory: string = duck.tempDirectory): Promise<void> {
  // A trailing "/" so that "/a/b" does not also allow "/a/bc".
  const dirs = allowedDirectories.map((d) => {
    const abs = resolve(d);
    return abs.endsWith("/") ? abs : `${abs}/`;
  });
  await duck.run(`SET allowed_directories=[${dirs.map(sqlString).join(", ")}]`);
  const temp = resolve(tempDirectory);
  try {
    await duck.run(`SET temp_directory=${sqlString(temp)}`);
  } catch (e) {
    if (resolve(duck.tempDirectory) !== temp) throw e;
  }
  await duck.run("SET enable_external_access=false");
  await duck.run("SET lock_configuration=true");
}

/** Statement kinds a user query may contain: SELECT (incl. WITH, VALUES, FROM-first) and EXPLAIN. */
const READ_ONLY = new Set(["SELECT", "EXPLAIN"]);

/**
 * Throws unless every statement in `sql` only reads. Use on user queries after `sandbox`:
 * the sandbox allows writes (COPY … TO) into allowed folders, this refuses them up front.
 */
export async function assertReadOnly(duck: Duck, sql: string): Promise<void> {
  await readOnlyColumns(duck, sql);
}

/**
 * `assertReadOnly`, then the query's result columns, binding each statement once. A text
 * of several read-only statements fails here too, with DuckDB's own message.
 */
export async function readOnlyColumns(duck: Duck, sql: string): Promise<DuckColumn[]> {
  const { kinds, columns } = await duck.describe(sql);
  const bad = kinds.filter((k) => !READ_ONLY.has(k));
  if (kinds.length === 0) throw new SqlError("empty SQL: give one SELECT query");
  if (bad.length > 0) throw new SqlError(`only SELECT queries are allowed, not ${[...new Set(bad)].join(", ")}`);
  return columns ?? (await duck.columns(sql));
}
