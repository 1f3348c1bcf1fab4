/**
 * Writes one flush as the next version of a series or table, as the collectors do: the
 * columns become a Parquet file by the Parquet codec (no DuckDB), staged beside the
 * pond's large files, then added in one write transaction (`Pond.write`: the write lock,
 * the control log, the retry of a lost commit). Runs on the flush thread (flusher.ts), so
 * encoding and committing never hold up requests.
 */
import { linkSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeColumns, type ParquetField } from "@pond/oplog";
import type { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { AdoptableFile } from "@pond/tlogfs";

export interface VersionWrite {
  path: string;
  entryType: "file:series" | "file:table";
  fields: ParquetField[];
  data: unknown[][];
  /** Order the rows by the first column (a time in µs) before encoding. */
  sortByFirst?: boolean;
  attributes: Record<string, unknown>;
  minUs?: number;
  maxUs?: number;
  /** The change as `pond log` shows it; `{version}` is replaced by the new version's number. */
  note: string;
}

/** Writes `w` as the next version of `w.path`; returns the version's number and the transaction's sequence. */
export async function writeVersion(pond: Pond, command: string[], w: VersionWrite): Promise<{ version: number; seq: number }> {
  // Snappy, not Zstandard: a stream's CPU goes to its flushes, and 10,000 rows took 8-10 ms
  // with Snappy against 38-54 ms with Zstandard here (files 63 KB against 29 KB); merging
  // a series (`pond maintain merge`) rewrites its versions anyway.
  const bytes = encodeColumns(w.fields, w.sortByFirst ? sortedByFirst(w.data) : w.data, { codec: "SNAPPY", rowGroupSize: 10_000 });
  const staging = join(pond.paths.data, "_large_files");
  mkdirSync(staging, { recursive: true });
  // `.tmp-` names are skipped by replication and removed by `pond recover`.
  const staged = join(staging, `.tmp-ingest-${crypto.randomUUID()}.parquet`);
  writeFileSync(staged, bytes, { flag: "wx" });
  try {
    const done = await pond.write(command, async ({ txn, note }) => {
      // The store may take the file it is given: a retried transaction gets a fresh link each time.
      const given = `${staged}.${crypto.randomUUID().slice(0, 8)}`;
      linkSync(staged, given);
      try {
        const r = await new WD(txn).createFile(w.path, w.entryType, new AdoptableFile(given), {
          attributes: w.attributes,
          ...(w.minUs !== undefined && w.maxUs !== undefined ? { minEventTime: BigInt(w.minUs), maxEventTime: BigInt(w.maxUs) } : {}),
        });
        note(w.note.replace("{version}", String(r.version.version)));
        return r.version.version;
      } finally {
        rmSync(given, { force: true });
      }
    });
    return { version: done.result, seq: done.seq };
  } finally {
    rmSync(staged, { force: true });
  }
}

/** The columns with their rows ordered by the first column (numbers), ties in arrival order. */
function sortedByFirst(data: unknown[][]): unknown[][] {
  const key = data[0] as number[];
  const order = Array.from({ length: key.length }, (_, i) => i);
  order.sort((a, b) => key[a]! - key[b]! || a - b);
  return data.map((col) => order.map((i) => col[i]));
}
