/**
 * `pond export`: tables and series written to a host folder as a Hive-partitioned
 * dataset (`name=lake/year=2025/month=07/part-0.parquet`) that DuckDB, Spark or pandas
 * read as one table. The pond's payloads are checked against the log first (every read
 * does), and nothing is published until DuckDB has written the whole set.
 *
 * A rerun into the same folder replaces exactly what the previous export wrote there: the
 * folder keeps a manifest (`.pond-export.json`) of the files pond wrote; files it does not
 * list are never touched. New files are renamed over old ones of the same name (each
 * rename atomic), then files of the old export that the new one no longer has are
 * removed, then the manifest is replaced.
 *
 * The destination may also be an ObjectStore (an S3 bucket and prefix, `pond export …
 * s3://bucket/prefix`): the dataset is written to a local staging folder first, then each
 * file is uploaded under the same relative key, then objects the previous manifest listed
 * that the new export no longer has are deleted, then the manifest object is replaced.
 * Before the uploads, when there are new keys, the manifest is first replaced by one
 * listing the old files and the new ones, so an upload that fails midway leaves no object
 * that a rerun would neither replace nor delete. Objects pond never wrote are never
 * touched, and nothing is uploaded when the export fails before it publishes.
 */
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { ObjectNotFoundError, fsyncDirSync, readJsonControlFile, writeFileDurable, type ObjectStore } from "@pond/oplog";
import type { AsOf, Pond } from "@pond/steward";
import { WD, basename, dirname as pondDirname } from "@pond/tinyfs";
import { ExportManifestError, ExportNameClashError, ExportNoTimeColumnError } from "./errors.ts";
import { QuerySession, resolveSources, type ResolvedSource, type TimeRange } from "@pond/tlogfs";
import { sqlIdent, sqlString } from "@pond/tlogfs/duckdb";

export type ExportFormat = "parquet" | "csv";
export type ExportPartition = "year" | "month" | "day";

export interface ExportOptions {
  format: ExportFormat;
  /** Time partitions under each source's `name=` folder (series, or tables with a time column). */
  partition?: ExportPartition;
  range?: TimeRange;
  asOf?: AsOf;
}

export interface ExportedFile {
  /** Relative to the export folder (the key under the prefix, for a store). */
  path: string;
  bytes: number;
}

export interface ExportReport {
  /** The host folder, or the store's URL (`s3://bucket/prefix`). */
  dest: string;
  sources: { path: string; name: string; versions: number }[];
  files: ExportedFile[];
  /** Files of the previous export that this one no longer has, removed. */
  removed: string[];
}

const MANIFEST = ".pond-export.json";

interface Manifest {
  format: 1;
  files: string[];
}

/** A Hive key=value folder name: a key of letters, digits and `_`, a value with no `=` or `/`. */
const HIVE_PAIR = /^([A-Za-z_][A-Za-z0-9_]*)=([^=/]+)$/;

/**
 * The folder a source's files go to, relative to the export: `name=<file name>` without its
 * `.series`/`.table`. A file whose name is itself a Hive pair (`pond reduce` writes
 * `/reduced/lake/res=1h.series`) goes under its folder's name instead, `name=lake/res=1h`, so
 * every level is one key=value that DuckDB, Spark and pandas read as a column (`name=res=1h`
 * is read as no partition at all, and two stations' `res=1h` would clash). A `=` anywhere
 * else is written `%3D`, as Hive escapes it.
 */
export function exportDir(path: string): string {
  const name = basename(path).replace(/\.(series|table)$/, "");
  const pair = HIVE_PAIR.exec(name);
  const parent = basename(pondDirname(path));
  if (pair && pair[1] !== "name" && parent !== "" && !parent.includes("=")) return `name=${parent}/${name}`;
  return `name=${name.replaceAll("=", "%3D")}`;
}

/** Exports the tables and series `pattern` names into `dest` (see the module comment). */
export async function exportData(pond: Pond, pattern: string, dest: string | ObjectStore, opts: ExportOptions): Promise<ExportReport> {
  const view = await pond.view(opts.asOf);
  const sources = await resolveSources(view, new WD(view), pattern, { range: opts.range });
  const names = new Map<string, string>();
  for (const s of sources) {
    const name = exportDir(s.path);
    const other = names.get(name);
    if (other) {
      throw new ExportNameClashError(name, other, s.path);
    }
    names.set(name, s.path);
  }
  const published = typeof dest === "string" ? await exportToFolder(sources, dest, opts) : await exportToStore(sources, dest, opts);
  return {
    dest: typeof dest === "string" ? dest : dest.url,
    sources: sources.map((s) => ({ path: s.path, name: exportDir(s.path), versions: s.files.length })),
    ...published,
  };
}

type Published = Pick<ExportReport, "files" | "removed">;

/** Writes every source into `staging` (the whole set, or an error: nothing is published before). */
async function stage(sources: ResolvedSource[], staging: string, opts: ExportOptions): Promise<ExportedFile[]> {
  const session = await QuerySession.open();
  try {
    for (const s of sources) await writeSource(session, s, join(staging, exportDir(s.path)), opts);
  } finally {
    session.close();
  }
  return listFiles(staging).map((p) => ({ path: relative(staging, p), bytes: statSync(p).size }));
}

/** The previous export's files that `files` no longer has (never a path out of the export). */
function leftOver(previous: Manifest | undefined, files: ExportedFile[]): string[] {
  const kept = new Set(files.map((f) => f.path));
  return (previous?.files ?? []).filter((p) => !kept.has(p) && p !== MANIFEST && !p.split("/").includes(".."));
}

function manifestText(paths: string[]): string {
  return JSON.stringify({ format: 1, files: [...new Set(paths)].sort() } satisfies Manifest, null, 2) + "\n";
}

function isManifest(v: unknown): string | undefined {
  return typeof v === "object" && v !== null && Array.isArray((v as Manifest).files) && (v as Manifest).files.every((f) => typeof f === "string")
    ? undefined
    : "it must list the files an export wrote";
}

async function exportToFolder(sources: ResolvedSource[], dest: string, opts: ExportOptions): Promise<Published> {
  mkdirSync(dest, { recursive: true });
  const manifestPath = join(dest, MANIFEST);
  const previous = readJsonControlFile<Manifest>(
    manifestPath,
    `Remove ${manifestPath} (then the files the earlier export wrote are no longer replaced; delete them by hand if needed).`,
    isManifest,
  );
  // Written beside the target, so publishing each file is a rename on one file system.
  const staging = join(dest, `.pond-export-tmp-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(staging);
  try {
    const files = await stage(sources, staging, opts);
    for (const f of files) {
      const target = join(dest, f.path);
      mkdirSync(dirname(target), { recursive: true });
      renameSync(join(staging, f.path), target);
    }
    for (const d of new Set(files.map((f) => dirname(join(dest, f.path))))) fsyncDirSync(d);
    const removed = leftOver(previous, files);
    for (const p of removed) rmSync(join(dest, p), { force: true });
    removeEmptyDirs(dest, new Set(removed.map((p) => dirname(join(dest, p)))));
    writeFileDurable(manifestPath, manifestText(files.map((f) => f.path)));
    return { files, removed };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function exportToStore(sources: ResolvedSource[], store: ObjectStore, opts: ExportOptions): Promise<Published> {
  // Read first: an unreachable endpoint, refused credentials or a missing bucket fail
  // before DuckDB writes anything.
  const previous = await readStoreManifest(store);
  const staging = mkdtempSync(join(tmpdir(), "pond-export-"));
  try {
    const files = await stage(sources, staging, opts);
    // First a manifest that lists the old files and the new ones too: an upload that fails
    // midway leaves no object pond wrote that a later export would not replace or delete.
    const before = new Set(previous?.files ?? []);
    if (files.some((f) => !before.has(f.path))) {
      await store.put(MANIFEST, new TextEncoder().encode(manifestText([...before, ...files.map((f) => f.path)])));
    }
    for (const f of files) await store.put(f.path, f.bytes === 0 ? new Uint8Array(0) : fileChunks(join(staging, f.path)));
    const removed = leftOver(previous, files);
    for (const p of removed) await store.delete(p);
    await store.put(MANIFEST, new TextEncoder().encode(manifestText(files.map((f) => f.path))));
    return { files, removed };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * A staged file's bytes, opened only when the store starts reading (a put that fails
 * before it reads must leave no stream that opens the file after staging is removed);
 * createReadStream yields a fresh buffer per chunk, as put() requires.
 */
async function* fileChunks(path: string): AsyncIterable<Uint8Array> {
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream) yield chunk as Uint8Array;
  } finally {
    stream.destroy();
  }
}

async function readStoreManifest(store: ObjectStore): Promise<Manifest | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(MANIFEST);
  } catch (e) {
    if (e instanceof ObjectNotFoundError) return undefined;
    throw e;
  }
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ExportManifestError(`${store.url}/${MANIFEST}`, "it is not JSON");
  }
  const problem = isManifest(v);
  if (problem) throw new ExportManifestError(`${store.url}/${MANIFEST}`, problem);
  return v as Manifest;
}

async function writeSource(session: QuerySession, s: ResolvedSource, out: string, opts: ExportOptions): Promise<void> {
  await session.addPondView("src", [s], opts.range);
  try {
    const ts = s.timestampColumn;
    if (opts.partition && !ts) {
      throw new ExportNoTimeColumnError(s.path, opts.partition);
    }
    const format = opts.format === "csv" ? "FORMAT csv, HEADER true" : "FORMAT parquet, COMPRESSION zstd";
    const ext = opts.format === "csv" ? "csv" : "parquet";
    // DuckDB makes a partitioned COPY's own folder, not its parents (`name=lake/` of `name=lake/res=1h/`).
    mkdirSync(opts.partition ? dirname(out) : out, { recursive: true });
    if (!opts.partition) {
      await session.all(`COPY (SELECT * FROM src${ts ? ` ORDER BY ${sqlIdent(ts)}` : ""}) TO ${sqlString(join(out, `part-0.${ext}`))} (${format})`);
      return;
    }
    const t = sqlIdent(ts!);
    const parts = ["year"];
    const cols = [`strftime(${t}, '%Y') AS year`];
    if (opts.partition !== "year") {
      parts.push("month");
      cols.push(`strftime(${t}, '%m') AS month`);
    }
    if (opts.partition === "day") {
      parts.push("day");
      cols.push(`strftime(${t}, '%d') AS day`);
    }
    // Rows without a time cannot be placed in a partition (a series has none: ingest refuses them).
    await session.all(
      `COPY (SELECT *, ${cols.join(", ")} FROM src WHERE ${t} IS NOT NULL ORDER BY ${t}) TO ${sqlString(out)} (${format}, PARTITION_BY (${parts.join(", ")}), FILENAME_PATTERN 'part-{i}')`,
    );
  } finally {
    await session.all("DROP VIEW src");
  }
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

/** Removes folders of removed files that are now empty, up to (not including) `root`. */
function removeEmptyDirs(root: string, dirs: Set<string>): void {
  for (let d of [...dirs].sort((a, b) => b.length - a.length)) {
    while (d.startsWith(root + "/") && existsSync(d) && readdirSync(d).length === 0) {
      rmSync(d, { recursive: true });
      d = dirname(d);
    }
  }
}
