// exportData into an ObjectStore (a real LocalObjectStore folder; the S3 path through the
// binary and s3rver is test/export-s3.e2e.test.ts): the order of the calls, and an upload
// that fails midway leaves nothing a rerun does not clean up.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore, recordingStore, type ObjectStore } from "@pond/oplog";
import { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { prepareParquet } from "@pond/tlogfs";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { exportData } from "./export.ts";

let root: string;
let pond: Pond;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "pond-export-store-test-"));
  pond = await Pond.init(join(root, "pond"), ["test"]);
  const parquet = join(root, "lake.parquet");
  const duck = await openDuckDB();
  try {
    await duck.run(
      `COPY (SELECT * FROM (VALUES (TIMESTAMPTZ '2024-01-30 00:00:00+00', 1.0), (TIMESTAMPTZ '2024-02-10 00:00:00+00', 2.0), (TIMESTAMPTZ '2024-03-05 00:00:00+00', 3.0)) t("timestamp", v)) TO '${parquet}' (FORMAT parquet)`,
    );
  } finally {
    duck.close();
  }
  const p = await prepareParquet(parquet, { series: true, raw: parquet });
  await pond.write(["test"], async ({ txn }) => {
    await new WD(txn).createFile("/st/lake.series", "file:series", readFileSync(parquet), {
      parents: true,
      attributes: { rows: p.rows, columns: p.columns, timestamp_column: p.timestampColumn },
      minEventTime: p.minEventTime ?? null,
      maxEventTime: p.maxEventTime ?? null,
    });
  });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function keys(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const m of store.list("")) out.push(m.key);
  return out.sort();
}
async function manifest(store: ObjectStore): Promise<string[]> {
  return JSON.parse(new TextDecoder().decode(await store.get(".pond-export.json"))).files;
}
const month = (m: string) => `name=lake/year=2024/month=${m}/part-0.parquet`;

test("the store gets: the old manifest read, a manifest of old and new files, the uploads, the deletes, the final manifest", async () => {
  const local = new LocalObjectStore(join(root, "store1"));
  await exportData(pond, "/st/lake.series", local, { format: "parquet", partition: "month" });
  const { store, calls } = recordingStore(local);
  const r = await exportData(pond, "/st/lake.series", store, {
    format: "parquet",
    partition: "day",
    range: { start: BigInt(Date.UTC(2024, 1, 1)) * 1000n },
  });
  expect(r.removed).toEqual([month("01"), month("02"), month("03")]);
  const day = (m: string, d: string) => `name=lake/year=2024/month=${m}/day=${d}/part-0.parquet`;
  expect(calls.map((c) => `${c.op} ${c.key}`)).toEqual([
    "get .pond-export.json",
    "put .pond-export.json",
    `put ${day("02", "10")}`,
    `put ${day("03", "05")}`,
    `delete ${month("01")}`,
    `delete ${month("02")}`,
    `delete ${month("03")}`,
    "put .pond-export.json",
  ]);
  expect(await keys(local)).toEqual([".pond-export.json", day("02", "10"), day("03", "05")]);
  expect(await manifest(local)).toEqual([day("02", "10"), day("03", "05")]);
});

test("an upload that fails midway leaves a manifest listing what it may have written; the next export deletes it", async () => {
  const local = new LocalObjectStore(join(root, "store2"));
  // The same folder store, except that the upload of February fails (a connection lost).
  const failing: ObjectStore = {
    ...recordingStore(local).store,
    put(key, body, opts) {
      if (key === month("02")) return Promise.reject(new Error("connection lost"));
      return local.put(key, body, opts);
    },
  };
  await expect(exportData(pond, "/st/lake.series", failing, { format: "parquet", partition: "month" })).rejects.toThrow("connection lost");
  expect(await keys(local)).toEqual([".pond-export.json", month("01")]);
  expect(await manifest(local)).toEqual([month("01"), month("02"), month("03")]);
  const r = await exportData(pond, "/st/lake.series", local, { format: "parquet", partition: "month", range: { start: BigInt(Date.UTC(2024, 2, 1)) * 1000n } });
  expect(r.removed).toEqual([month("01"), month("02")]);
  expect(await keys(local)).toEqual([".pond-export.json", month("03")]);
});
