import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { EntryType, VersionOptions } from "@pond/tinyfs";
import { AdoptableFile, checkSeriesAppend, convertCsv, prepareParquet, type PreparedParquet, type SeriesSchema } from "@pond/tlogfs";
import type { Endpoint } from "../endpoint.ts";
import { readHostFile } from "../host-files.ts";
import { csvOptions, type CsvArgs } from "./cat-rows.ts";
import { prepareTransform, wantsTransform } from "./ingest-transform.ts";
import { HostChangedError, UsageError } from "../errors.ts";

type HostEndpoint = Extract<Endpoint, { kind: "host" }>;

/**
 * Turns a `host+table:`, `host+csv:`, `host+series:` or `host+series+csv:` source into
 * Parquet bytes to store, with the version's metadata. CSV is converted by DuckDB into
 * a temp file in `stagingDir` (the pond's large-file folder), so that the store takes
 * the file itself instead of a copy (`AdoptableFile`). `cleanup` removes it; call it
 * once the content has been stored (or not).
 */
export async function prepareIngest(
  src: HostEndpoint,
  args: CsvArgs & { timestampColumn?: string | undefined; sql?: string | undefined; profile?: string | undefined },
  stagingDir: string,
  /** The series this version is appended to, when it exists: its time column is the default, and its column types must hold. */
  appendTo?: { path: string; schema: SeriesSchema },
): Promise<{ entryType: EntryType; content: AsyncIterable<Uint8Array>; options: VersionOptions; cleanup: () => void }> {
  const series = src.format === "series" || src.format === "series+csv";
  const timestampColumn = args.timestampColumn ?? (series ? appendTo?.schema.timestampColumn : undefined);
  let prepared: PreparedParquet;
  let content: AsyncIterable<Uint8Array>;
  // `.tmp-` names are skipped by replication and removed by `pond recover`.
  const temps: string[] = [];
  const temp = (kind: string) => {
    mkdirSync(stagingDir, { recursive: true });
    const p = join(stagingDir, `.tmp-${kind}-${crypto.randomUUID()}`);
    temps.push(p);
    return p;
  };
  const cleanup = () => {
    for (const p of temps) rmSync(p, { force: true });
  };
  if (wantsTransform(args)) {
    ({ prepared, content } = await prepareTransform(src, { ...args, timestampColumn }, stagingDir));
    temps.push(prepared.parquetPath);
  } else if (src.format === "table" || src.format === "series") {
    try {
      const r = await readAsItWas(
        src.path,
        () => temp("src"),
        (p) => prepareParquet(p, { series, timestampColumn, raw: src.raw }),
      );
      prepared = r.result;
      // The bytes stored are the bytes inspected: the snapshot, or the file up to the size it had.
      content = r.snapshot ? new AdoptableFile(r.snapshot) : readHostFile(src.path, { limit: r.size });
    } catch (e) {
      cleanup();
      throw e;
    }
  } else if (src.format === "csv" || src.format === "series+csv") {
    const out = temp("csv");
    try {
      prepared = (
        await readAsItWas(
          src.path,
          () => temp("src"),
          (p) => convertCsv(p, out, { series, timestampColumn, raw: src.raw, ...csvOptions(args) }),
        )
      ).result;
    } catch (e) {
      cleanup();
      throw e;
    }
    content = new AdoptableFile(prepared.parquetPath);
  } else {
    throw new UsageError(
      `"${src.raw}": host+${src.format}: cannot be copied into a pond`,
      "copy",
      "Query it in place with `pond cat host+delta:///folder --sql …`, or copy its Parquet files with host+table:.",
    );
  }
  if (series && appendTo) {
    try {
      checkSeriesAppend(appendTo.path, appendTo.schema, prepared, `"${src.raw}"`);
    } catch (e) {
      cleanup();
      throw e;
    }
  }
  const attributes: Record<string, unknown> = { rows: prepared.rows, columns: prepared.columns };
  if (series) attributes.timestamp_column = prepared.timestampColumn;
  return {
    entryType: series ? "file:series" : "file:table",
    content,
    options: { attributes, minEventTime: prepared.minEventTime ?? null, maxEventTime: prepared.maxEventTime ?? null },
    cleanup,
  };
}

/**
 * Runs `read` on host file `path` and checks that the file did not change meanwhile (size,
 * modification time, inode). When it did (a logger still appending to it), `read` runs
 * again on a snapshot of the bytes the file had when the copy began, written to the path
 * `snapshotPath()` gives: what is stored is then the file as it was, never a mix or a
 * torn last line that arrived mid-read. A file that shrank cannot be read as it was and
 * is refused.
 */
export async function readAsItWas<T>(
  path: string,
  snapshotPath: () => string,
  read: (path: string) => Promise<T>,
): Promise<{ result: T; size: number; snapshot?: string }> {
  const before = statSync(path);
  const result = await read(path);
  const after = statSync(path);
  if (after.size === before.size && after.mtimeMs === before.mtimeMs && after.ino === before.ino) return { result, size: before.size };
  if (after.size < before.size || after.ino !== before.ino) {
    throw new HostChangedError(path, before.size, after.size);
  }
  const snapshot = snapshotPath();
  const fd = openSync(snapshot, "wx");
  try {
    for await (const chunk of readHostFile(path, { limit: before.size })) {
      for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { result: await read(snapshot), size: before.size, snapshot };
}
