import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import type { OplogEntry } from "@pond/oplog";
import { VERSION_COLUMN, readMergeRecord } from "../merged-payload.ts";
import { openDuckDB, sqlIdent, sqlString } from "../sql/duckdb.ts";

/**
 * The bytes of a merged version (row `row`, whose rows are in merged file `hostPath`): a
 * new Parquet file of exactly its rows and columns. Its own first payload was rewritten
 * into the merged file, so these are not those bytes (nor their hash); the rows are the same.
 */
export async function* mergedVersionParquet(hostPath: string, row: OplogEntry): AsyncIterable<Uint8Array> {
  const rec = readMergeRecord(row.attributes);
  const cols = rec?.attributes.columns;
  const list =
    Array.isArray(cols) && cols.every((c) => typeof c?.name === "string")
      ? cols.map((c: { name: string }) => sqlIdent(c.name)).join(", ")
      : `* EXCLUDE (${sqlIdent(VERSION_COLUMN)})`;
  const duck = await openDuckDB({ threads: 1, memoryLimit: "256MB" });
  try {
    const out = join(duck.tempDirectory, "version.parquet");
    await duck.run(
      `COPY (SELECT ${list} FROM read_parquet(${sqlString(hostPath)}) WHERE ${sqlIdent(VERSION_COLUMN)} = ${row.version}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const fd = openSync(out, "r");
    try {
      for (;;) {
        const buf = new Uint8Array(1 << 20);
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        yield buf.subarray(0, n);
      }
    } finally {
      closeSync(fd);
    }
  } finally {
    duck.close();
  }
}
