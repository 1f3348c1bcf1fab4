import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PondError } from "@pond/diagnostics";
import type { EntryType, VersionOptions } from "@pond/tinyfs";
import { convertCsv, prepareParquet, type PreparedParquet } from "@pond/tlogfs";
import type { Endpoint } from "../endpoint.ts";
import { readHostFile } from "../host-files.ts";
import { csvOptions } from "./cat-rows.ts";

type HostEndpoint = Extract<Endpoint, { kind: "host" }>;

/**
 * Turns a `host+table:`, `host+csv:`, `host+series:` or `host+series+csv:` source into
 * Parquet bytes to store, with the version's metadata. CSV is converted by DuckDB into
 * a temp file that is removed once its bytes have been read.
 */
export async function prepareIngest(src: HostEndpoint, args: Record<string, unknown>): Promise<{ entryType: EntryType; content: AsyncIterable<Uint8Array>; options: VersionOptions }> {
  const series = src.format === "series" || src.format === "series+csv";
  const timestampColumn = args["timestamp-column"] as string | undefined;
  let prepared: PreparedParquet;
  let content: AsyncIterable<Uint8Array>;
  if (src.format === "table" || src.format === "series") {
    prepared = await prepareParquet(src.path, { series, timestampColumn, raw: src.raw });
    content = readHostFile(src.path);
  } else if (src.format === "csv" || src.format === "series+csv") {
    const tmp = mkdtempSync(join(tmpdir(), "pond-csv-"));
    try {
      prepared = await convertCsv(src.path, tmp, {
        series,
        timestampColumn,
        raw: src.raw,
        ...csvOptions(args),
      });
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    content = removeAfter(readHostFile(prepared.parquetPath), tmp);
  } else {
    throw new PondError("usage", `"${src.raw}": host+${src.format}: cannot be copied into a pond`, {
      kind: "usage",
      hint: "Query it in place with `pond cat host+delta:///folder --sql …`, or copy its Parquet files with host+table:.",
    });
  }
  const attributes: Record<string, unknown> = { rows: prepared.rows, columns: prepared.columns };
  if (series) attributes.timestamp_column = prepared.timestampColumn;
  return {
    entryType: series ? "file:series" : "file:table",
    content,
    options: { attributes, minEventTime: prepared.minEventTime ?? null, maxEventTime: prepared.maxEventTime ?? null },
  };
}

async function* removeAfter(it: AsyncIterable<Uint8Array>, dir: string): AsyncIterable<Uint8Array> {
  try {
    yield* it;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
