import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PondError } from "@pond/diagnostics";
import type { EntryType, VersionOptions } from "@pond/tinyfs";
import { AdoptableFile, checkSeriesAppend, convertCsv, prepareParquet, type PreparedParquet, type SeriesSchema } from "@pond/tlogfs";
import type { Endpoint } from "../endpoint.ts";
import { readHostFile } from "../host-files.ts";
import { csvOptions, type CsvArgs } from "./cat-rows.ts";

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
  args: CsvArgs & { timestampColumn?: string | undefined },
  stagingDir: string,
  /** The series this version is appended to, when it exists: its time column is the default, and its column types must hold. */
  appendTo?: { path: string; schema: SeriesSchema },
): Promise<{ entryType: EntryType; content: AsyncIterable<Uint8Array>; options: VersionOptions; cleanup: () => void }> {
  const series = src.format === "series" || src.format === "series+csv";
  const timestampColumn = args.timestampColumn ?? (series ? appendTo?.schema.timestampColumn : undefined);
  let prepared: PreparedParquet;
  let content: AsyncIterable<Uint8Array>;
  let cleanup = () => {};
  if (src.format === "table" || src.format === "series") {
    prepared = await prepareParquet(src.path, { series, timestampColumn, raw: src.raw });
    content = readHostFile(src.path);
  } else if (src.format === "csv" || src.format === "series+csv") {
    mkdirSync(stagingDir, { recursive: true });
    // `.tmp-` names are skipped by replication and removed by `pond recover`.
    const out = join(stagingDir, `.tmp-csv-${crypto.randomUUID()}`);
    cleanup = () => rmSync(out, { force: true });
    try {
      prepared = await convertCsv(src.path, out, { series, timestampColumn, raw: src.raw, ...csvOptions(args) });
    } catch (e) {
      cleanup();
      throw e;
    }
    content = new AdoptableFile(prepared.parquetPath);
  } else {
    throw new PondError("usage", `"${src.raw}": host+${src.format}: cannot be copied into a pond`, {
      kind: "usage",
      hint: "Query it in place with `pond cat host+delta:///folder --sql …`, or copy its Parquet files with host+table:.",
    });
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
