import { ArrowStreamEncoder, type ArrowColumnKind } from "@pond/oplog";
import { IntegrityError } from "@pond/tinyfs";
import { QueryError, SqlError } from "../errors.ts";
import { openDuckDB, readOnlyColumns, sandbox, sqlIdent, sqlString, type Duck, type DuckChunk, type DuckColumn, type DuckPrepared } from "../sql/duckdb.ts";
import { csvReader, type CsvOptions } from "./csv-reader.ts";
import { relabelSources } from "./sql-sources.ts";
import type { MergedPart, PayloadFile, ResolvedSource } from "./pond-sources.ts";
import { VERSION_COLUMN } from "../merged-payload.ts";
import type { TimeRange } from "./time-bounds.ts";

export { QueryError };

const PAYLOAD_IN_MESSAGE = /sha256=([0-9a-f]{64})/;

/**
 * One sandboxed DuckDB session for one command. Register every source first (views
 * over exactly the payload files named), then `lock()`: after that the query can read
 * only those files and its own temp folder, and can change no setting. Timestamps are
 * rendered in UTC.
 */
export class QuerySession {
  private readonly allowedFiles = new Set<string>();
  /** Payload file → `"/pond/path" version N`, to name the file when DuckDB cannot read it. */
  private readonly payloadLabels = new Map<string, string>();
  /** View name → the pond path the user wrote, put back into DuckDB's messages. */
  private readonly viewLabels = new Map<string, string>();
  private locked = false;
  /** Parquet results written so far (see `toParquet`). */
  private results = 0;
  /** User queries already checked since lock(), with their result columns (see `prepare`). */
  private readonly checked = new Map<string, DuckColumn[]>();
  /** Output statements bound since lock(), by text (see `output`). */
  private readonly bound = new Map<string, DuckPrepared>();

  private constructor(private readonly duck: Duck) {}

  static async open(): Promise<QuerySession> {
    const duck = await openDuckDB();
    await duck.run("SET TimeZone='UTC'");
    return new QuerySession(duck);
  }

  get tempDirectory(): string {
    return this.duck.tempDirectory;
  }

  /**
   * A view over pond tables/series: the union by column name of their payloads, kept to
   * [range.start, range.end) on the time column when a range is given. `label`: the path the
   * query named it by, shown in DuckDB's messages instead of the view's name.
   */
  async addPondView(name: string, sources: ResolvedSource[], range?: TimeRange, label?: string): Promise<void> {
    if (label !== undefined) this.viewLabels.set(name, label);
    for (const s of sources) for (const f of s.files) this.payloadLabels.set(f.hostPath, `"${s.path}" version ${f.version}${f.merged ? " (merged)" : ""}`);
    let files = sources.flatMap((s) => s.files);
    let where = "";
    if (files.length === 0) {
      // Every version was outside the time range: keep the schema, read no rows.
      const newest = sources.find((s) => s.files.length > 0);
      if (!newest) {
        await this.run(`CREATE VIEW ${sqlIdent(name)} AS SELECT NULL AS no_rows WHERE false`);
        return;
      }
      files = [newest.files[newest.files.length - 1]!];
      where = " WHERE false";
    }
    const tsCol = sources.find((s) => s.timestampColumn)?.timestampColumn;
    const relation = sources.some((s) => s.newestRowPerTime && s.files.length > 1)
      ? `(${sources
          .filter((s) => s.files.length > 0)
          .map((s) => this.newestRowRelation(s))
          .join(" UNION ALL BY NAME ")})`
      : this.payloadRelation(files);
    if (!where && range && (range.start !== undefined || range.end !== undefined)) {
      if (!tsCol)
        throw new QueryError(`--time-start/--time-end need a series with a timestamp column; ${sources.map((s) => `"${s.path}"`).join(", ")} has none`);
      const type = (await this.duck.columns(`SELECT ${sqlIdent(tsCol)} FROM ${relation}`))[0]!.type;
      const lit = (us: bigint) => timeLiteral(us, type);
      const conds: string[] = [];
      if (range.start !== undefined) conds.push(`${sqlIdent(tsCol)} >= ${lit(range.start)}`);
      if (range.end !== undefined) conds.push(`${sqlIdent(tsCol)} < ${lit(range.end)}`);
      where = ` WHERE ${conds.join(" AND ")}`;
    }
    await this.run(`CREATE VIEW ${sqlIdent(name)} AS SELECT * FROM ${relation}${where}`);
  }

  /**
   * The rows of `files` as one relation, unioned by column name. Merged files (see
   * merged-payload.ts) hide their version column; one read for only some of its
   * versions keeps their rows and the columns they had.
   */
  private payloadRelation(files: PayloadFile[]): string {
    // Whole files (a version's own, or a merged file all of whose versions are read) go to
    // one read_parquet in a row; a merged file read for some of its versions is a piece of its own.
    const pieces: string[] = [];
    let group: PayloadFile[] = [];
    const flush = () => {
      if (group.length > 0) pieces.push(this.wholeFiles(group));
      group = [];
    };
    for (const f of files) {
      if (!f.merged || f.merged.all) {
        group.push(f);
        continue;
      }
      flush();
      const cols = partColumns(f.merged.versions);
      const list = cols ? cols.map(sqlIdent).join(", ") : `* EXCLUDE (${sqlIdent(VERSION_COLUMN)})`;
      const rel = this.parquetRelation([f.hostPath], false);
      pieces.push(`(SELECT ${list} FROM ${rel} WHERE ${versionPredicate(f.merged.versions.map((p) => p.version))})`);
    }
    flush();
    return pieces.length === 1 ? pieces[0]! : `(${pieces.map((p) => `SELECT * FROM ${p}`).join(" UNION ALL BY NAME ")})`;
  }

  /** Files read whole, by column name; a merged file's version column hidden. */
  private wholeFiles(files: PayloadFile[]): string {
    // Reading by name costs a schema pass over every footer; skip it when every version
    // recorded the same columns (a merged file has one more: its version column).
    const merged = files.some((f) => f.merged);
    const schemas = new Set(files.map((f) => JSON.stringify(f.columns ?? null)));
    const rel = this.parquetRelation(
      files.map((f) => f.hostPath),
      merged || schemas.size !== 1 || schemas.has("null"),
    );
    return merged ? `(SELECT * EXCLUDE (${sqlIdent(VERSION_COLUMN)}) FROM ${rel})` : rel;
  }

  /** A view over host Parquet files (host mode), with constant partition columns per file when given. */
  async addParquetView(name: string, files: { path: string; partitionValues?: Record<string, string | null> }[]): Promise<void> {
    const parts = files.map((f) => {
      this.allowedFiles.add(f.path);
      const extra = Object.entries(f.partitionValues ?? {})
        .map(([k, v]) => `, ${v === null ? "NULL" : sqlString(v)} AS ${sqlIdent(k)}`)
        .join("");
      // The log's partition values are the truth; paths like year=2020/ must not add them again.
      return `SELECT *${extra} FROM read_parquet(${sqlString(f.path)}, hive_partitioning=false)`;
    });
    const body = parts.length ? parts.join(" UNION ALL BY NAME ") : "SELECT NULL AS no_rows WHERE false";
    await this.run(`CREATE VIEW ${sqlIdent(name)} AS ${body}`);
  }

  /** A view over a host CSV file (host mode), read with DuckDB's sniffing reader. */
  async addCsvView(name: string, path: string, opts: CsvOptions, raw: string): Promise<void> {
    this.allowedFiles.add(path);
    let reader: string;
    try {
      reader = await csvReader(this.duck, path, opts, raw);
    } catch (e) {
      if (!(e instanceof SqlError)) throw e;
      throw new QueryError(`Cannot read CSV "${raw}": ${e.message}`);
    }
    await this.run(`CREATE VIEW ${sqlIdent(name)} AS SELECT * FROM ${reader}`);
  }

  /**
   * One source's rows; for a series whose versions replace earlier rows at the same time
   * (`newestRowPerTime`), only the newest version's row at each time. Files are listed in
   * version order, so DuckDB's `file_index` (a virtual column: a data column of that name
   * would hide it, and no reduced series has one) orders rows by version. Rows come out
   * in time order. `pond maintain merge` leaves these series alone (a merged file has no
   * one `file_index`), so every file here is a version's own.
   */
  private newestRowRelation(s: ResolvedSource): string {
    if (!s.newestRowPerTime || !s.timestampColumn || s.files.length < 2) return `(SELECT * FROM ${this.payloadRelation(s.files)})`;
    if (s.files.some((f) => f.merged)) throw new Error(`"${s.path}" keeps the newest row per time but has merged files: merge must skip such series`);
    const schemas = new Set(s.files.map((f) => JSON.stringify(f.columns ?? null)));
    const rel = this.parquetRelation(
      s.files.map((f) => f.hostPath),
      schemas.size !== 1 || schemas.has("null"),
    );
    // Rows in time order: the window scrambles the files' order, and these series are read as time series.
    const t = sqlIdent(s.timestampColumn);
    return `(SELECT * FROM ${rel} QUALIFY row_number() OVER (PARTITION BY ${t} ORDER BY file_index DESC) = 1 ORDER BY ${t})`;
  }

  private parquetRelation(files: string[], byName: boolean): string {
    for (const f of files) this.allowedFiles.add(f);
    return `read_parquet(${sqlStringList(files)}, union_by_name=${byName}, hive_partitioning=false)`;
  }

  /** Locks the session: only the registered files and the temp folder stay readable. */
  async lock(): Promise<void> {
    // Footers parsed once per file and instance (DuckDB keys the cache by path and mtime;
    // payloads never change): the query's bind and its scan, and a server's kept session
    // asked again, read each footer once. A fresh instance over 1,000 files: 163 -> 131 ms,
    // the same query asked again: 113 -> 84 ms (medians of 7, load ~2).
    await this.duck.run("SET parquet_metadata_cache=true");
    // Payloads are content-addressed and never rewritten (nor is any file of the session's
    // own, see `toParquet`), so what DuckDB cached of one stays true: checking it again before each use opened every file
    // once more, and in a locked DuckDB each open resolves the path component by component
    // (realpath: a readlink a component). A kept session's repeated query over 1,000 files:
    // 66 -> 54 ms of CPU, as an unlocked instance (medians of 21, load 5).
    await this.duck.run("SET validate_external_file_cache='NO_VALIDATION'");
    await this.duck.run(`SET allowed_paths=${sqlStringList([...this.allowedFiles])}`);
    await sandbox(this.duck, [this.duck.tempDirectory]);
    this.locked = true;
  }

  private async run(sql: string): Promise<void> {
    try {
      await this.duck.run(sql);
    } catch (e) {
      throw this.failure(e, sql);
    }
  }

  /**
   * DuckDB's error as the error it is: a payload it could not read (damaged, truncated,
   * removed under it) is an integrity failure naming the pond file, the version and the
   * payload; anything else is the query's own error.
   */
  private failure(e: unknown, sql?: string): unknown {
    if (!(e instanceof SqlError)) return e; // Pond's own errors, and bugs, as they are
    const message = e.message;
    // Only a payload this session registered (and so allowed) counts: a query naming
    // some other payload file is refused by the sandbox, which is the query's error.
    const m = PAYLOAD_IN_MESSAGE.exec(message);
    const hostPath = m ? [...this.payloadLabels.keys()].find((p) => p.endsWith(`sha256=${m[1]}`)) : undefined;
    if (!hostPath) return new QueryError(relabelSources(message, this.viewLabels), sql === undefined ? undefined : relabelSources(sql, this.viewLabels));
    return new IntegrityError(
      `${this.payloadLabels.get(hostPath)!} (payload ${hostPath})`,
      `DuckDB could not read it: ${message}`,
      { payload: hostPath },
      "The file under data/_large_files is damaged or missing. Restore it from a backup (`pond restore` into a new folder and copy that file back), then query again.",
    );
  }

  /**
   * Checks a user query is one read-only statement and returns its result columns. Once
   * locked, a session's views and settings cannot change (a statement that is not a read is
   * refused here), so the answer for a text is kept: `pond serve` asks a kept session the
   * same query again, and the check's prepared statement cost ~50 ms a request to destroy
   * there (over 1,000 files).
   */
  async prepare(sql: string): Promise<DuckColumn[]> {
    if (!this.locked) throw new Error("BUG: QuerySession.prepare before lock()");
    const known = this.checked.get(sql);
    if (known) return known;
    try {
      const columns = await readOnlyColumns(this.duck, sql);
      if (this.checked.size >= 64) this.checked.delete(this.checked.keys().next().value!);
      this.checked.set(sql, columns);
      return columns;
    } catch (e) {
      throw this.failure(e, sql);
    }
  }

  /** Streams a query's rows with every value as DuckDB's own text (NULL stays null). */
  async *streamText(sql: string, columns: DuckColumn[]): AsyncIterable<DuckChunk> {
    const list = columns.map((_, i) => `CAST(c${i} AS VARCHAR) AS c${i}`).join(", ");
    yield* this.output(`SELECT ${list} FROM ${positional(sql, columns)}`, 2048);
  }

  /**
   * Streams a query's rows as JSON text, one object a row, keys in column order. Keys are
   * the column names, a repeated name suffixed `_1`, `_2`… (JSON objects cannot repeat a
   * key); NaN and ±Infinity, which JSON cannot write, are null.
   */
  async *streamJson(sql: string, columns: DuckColumn[]): AsyncIterable<string[]> {
    const keys = jsonKeys(columns.map((c) => c.name));
    const obj = `json_object(${keys.map((k, i) => `${sqlString(k)}, c${i}`).join(", ")})::VARCHAR`;
    for await (const chunk of this.output(`SELECT ${obj} AS j FROM ${positional(sql, columns)}`, 2048)) {
      yield chunk.rows.map((r) => nonFiniteToNull(r[0] as string));
    }
  }

  /**
   * Streams a query's rows as one Arrow IPC stream (bytes, a record batch at a time).
   * Column types: BOOLEAN as Bool; TINYINT…INTEGER, UTINYINT, USMALLINT as Int32; BIGINT,
   * UINTEGER as Int64; FLOAT, DOUBLE, DECIMAL as Float64; TIMESTAMP (any precision) as
   * Timestamp(µs), WITH TIME ZONE as Timestamp(µs, UTC); DATE as Date32; anything else
   * (VARCHAR, HUGEINT, UBIGINT, intervals, lists, structs…) as DuckDB's text in Utf8.
   */
  async *streamArrow(sql: string, columns: DuckColumn[]): AsyncIterable<Uint8Array> {
    const kinds = columns.map((c) => arrowKind(c.type));
    const list = kinds.map((k, i) => `${arrowCast(k, `c${i}`)} AS c${i}`).join(", ");
    const encoder = new ArrowStreamEncoder(columns.map((c, i) => ({ name: c.name, kind: kinds[i]! })));
    for await (const chunk of this.output(`SELECT ${list} FROM ${positional(sql, columns)}`, 8192)) {
      yield encoder.batch(chunk.rows);
    }
    yield encoder.end();
  }

  /**
   * Streams an output statement over a checked user query. Once locked the views and
   * settings cannot change, so the statement is bound once and kept: a kept session asked
   * the same query again (`pond serve`'s polling dashboard) runs it without parsing and
   * binding it again (over 1,000 files ~5–10 ms a request). At most 16 are kept.
   */
  private async *output(sql: string, minRows: number): AsyncIterable<DuckChunk> {
    if (!this.locked) throw new Error("BUG: QuerySession output before lock()");
    let prepared = this.bound.get(sql);
    if (!prepared) {
      try {
        prepared = await this.duck.prepare(sql);
      } catch (e) {
        throw this.failure(e, sql);
      }
      if (this.bound.size >= 16) {
        const [oldest, p] = this.bound.entries().next().value!;
        this.bound.delete(oldest);
        p.close();
      }
      this.bound.set(sql, prepared);
    }
    yield* this.guard(prepared.stream({ minRows }));
  }

  /** Output statements kept bound now (see `output`). */
  boundStatements(): number {
    return this.bound.size;
  }

  /** Stops the query running in this session (see `Duck.interrupt`). */
  interrupt(): void {
    this.duck.interrupt();
  }

  /**
   * Writes a query's result as Parquet into the session's temp folder; returns its path,
   * which the caller removes once read. Each result gets a name of its own: no file a locked
   * session can read is ever rewritten (its cache of files is not re-validated, see `lock`).
   */
  async toParquet(sql: string): Promise<string> {
    const out = `${this.duck.tempDirectory}/result-${++this.results}.parquet`;
    // The newline ends a trailing `-- comment` before the closing parenthesis.
    await this.run(`COPY (${sql}\n) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`);
    return out;
  }

  /** Runs an internal (trusted) query and returns row objects. */
  async all(sql: string): Promise<Record<string, unknown>[]> {
    try {
      return await this.duck.all(sql);
    } catch (e) {
      throw this.failure(e, sql);
    }
  }

  private async *guard<T>(it: AsyncIterable<T>): AsyncIterable<T> {
    try {
      yield* it;
    } catch (e) {
      throw this.failure(e);
    }
  }

  /** See `Duck.close`: `last` when the command ends right after. */
  close(opts: { last?: boolean } = {}): void {
    this.duck.close(opts);
  }
}

/**
 * A constant VARCHAR[] of `items`. A long list literal is slow to bind: for 1,000 payload
 * paths, `[…]` in the view and in `SET allowed_paths` took 32 + 36 ms, and one string
 * split at newlines 11 + 13 ms (the query itself ~8 ms slower; 30 ms saved in all).
 * Items with a newline in them keep the literal.
 */
export function sqlStringList(items: string[]): string {
  if (items.length < 2 || items.some((s) => s.includes("\n"))) return `[${items.map(sqlString).join(", ")}]`;
  return `string_split(${sqlString(items.join("\n"))}, chr(10))`;
}

/** A SQL literal for µs since the epoch in the type of the time column. */
function timeLiteral(us: bigint, type: string): string {
  if (type === "DATE") return `CAST(make_timestamp(${us}::BIGINT) AS DATE)`;
  if (type.startsWith("TIMESTAMP WITH TIME ZONE") || type === "TIMESTAMPTZ") return `CAST(make_timestamp(${us}::BIGINT) AS TIMESTAMPTZ)`;
  return `make_timestamp(${us}::BIGINT)`;
}

/**
 * The user's query as a relation whose columns are `c0, c1, …` by position: no column name
 * (`q`, a repeated `a`, a keyword) can then shadow the wrapper's own names. The newline
 * ends a trailing `-- comment` before the closing parenthesis.
 */
function positional(sql: string, columns: DuckColumn[]): string {
  return `(${sql}\n) AS __pond_rows(${columns.map((_, i) => `c${i}`).join(", ")})`;
}

/** The Arrow type a DuckDB column is written as (see `streamArrow`). */
function arrowKind(type: string): ArrowColumnKind {
  if (type === "BOOLEAN") return "bool";
  if (/^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT)$/.test(type)) return "int32";
  if (type === "BIGINT" || type === "UINTEGER") return "int64";
  if (/^(FLOAT|DOUBLE|DECIMAL)/.test(type)) return "float64";
  if (type === "TIMESTAMP WITH TIME ZONE" || type === "TIMESTAMPTZ") return "timestamp_us_utc";
  if (/^TIMESTAMP(_S|_MS|_NS)?$/.test(type)) return "timestamp_us";
  if (type === "DATE") return "date_day";
  return "utf8";
}

/** The SQL that gives column `c` the JS values `ArrowStreamEncoder` takes for `kind`. */
function arrowCast(kind: ArrowColumnKind, c: string): string {
  switch (kind) {
    case "bool":
      return c;
    case "int32":
      return `CAST(${c} AS INTEGER)`;
    case "int64":
      return `CAST(${c} AS BIGINT)`;
    case "float64":
      return `CAST(${c} AS DOUBLE)`;
    case "timestamp_us":
    case "timestamp_us_utc":
      return `epoch_us(${c})`;
    case "date_day":
      return `CAST(${c} - DATE '1970-01-01' AS INTEGER)`;
    case "utf8":
      return `CAST(${c} AS VARCHAR)`;
  }
}

/** Column names as unique JSON keys: a repeat gets the first free `_1`, `_2`… suffix. */
export function jsonKeys(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    let k = n;
    for (let i = 1; used.has(k); i++) k = `${n}_${i}`;
    used.add(k);
    return k;
  });
}

/**
 * DuckDB writes a non-finite DOUBLE as a bare `NaN`, `Infinity` or `-Infinity`, which no
 * JSON parser accepts; outside string literals each becomes `null`, at any depth.
 */
export function nonFiniteToNull(json: string): string {
  if (!json.includes("NaN") && !json.includes("Infinity")) return json;
  let out = "";
  let i = 0;
  while (i < json.length) {
    const ch = json[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === "\\" ? 2 : 1;
      out += json.slice(i, j + 1);
      i = j + 1;
    } else if (json.startsWith("NaN", i)) {
      out += "null";
      i += 3;
    } else if (json.startsWith("-Infinity", i)) {
      out += "null";
      i += 9;
    } else if (json.startsWith("Infinity", i)) {
      out += "null";
      i += 8;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** The columns the versions of a merged file that a read keeps had, in order of first use; undefined when one has no record. */
function partColumns(parts: readonly MergedPart[]): string[] | undefined {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of parts) {
    if (!Array.isArray(p.columns)) return undefined;
    for (const c of p.columns as { name?: unknown }[]) {
      if (typeof c?.name !== "string") return undefined;
      if (!seen.has(c.name)) {
        seen.add(c.name);
        out.push(c.name);
      }
    }
  }
  return out;
}

/** `__pond_version` in `versions`, as ranges of consecutive numbers (BETWEEN prunes row groups by their statistics; a long IN list binds slowly). */
function versionPredicate(versions: number[]): string {
  const sorted = [...versions].sort((a, b) => a - b);
  const conds: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    conds.push(i === j ? `${sqlIdent(VERSION_COLUMN)} = ${sorted[i]}` : `${sqlIdent(VERSION_COLUMN)} BETWEEN ${sorted[i]} AND ${sorted[j]}`);
    i = j + 1;
  }
  return conds.length === 1 ? conds[0]! : `(${conds.join(" OR ")})`;
}
