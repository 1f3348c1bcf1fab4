import { afterEach, beforeEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commit, loadSnapshot } from "./delta-log.ts";
import { CorruptLogError, EntryPartitionError } from "./errors.ts";
import { LocalObjectStore } from "./local-store.ts";
import { MemoryObjectStore } from "./memory-store.ts";
import type { OplogEntry } from "./oplog-entry.ts";
import { OPLOG_SCHEMA_STRING, pondTableActions, readEntryFile, writeEntryFile } from "./pond-table.ts";

const PART = "0190a0b0-0000-7000-8000-000000000001";

function row(i: number, over: Partial<OplogEntry> = {}): OplogEntry {
  return {
    part_id: PART,
    node_id: `0190a0b0-0000-7000-8000-${String(100 + i).padStart(12, "0")}`,
    file_type: "file:series",
    version: i + 1,
    timestamp: 1_700_000_000_000_000n + BigInt(i) * 1_500n,
    content: new Uint8Array([i, 0xff]),
    sha256: "0".repeat(64),
    size: 2,
    min_event_time: BigInt(i) * 10n,
    max_event_time: BigInt(i) * 10n + 5n,
    attributes: "{}",
    ...over,
  };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pond-table-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test("OPLOG_SCHEMA_STRING declares the OplogEntry columns with Spark types", () => {
  const schema = JSON.parse(OPLOG_SCHEMA_STRING);
  expect(schema.type).toBe("struct");
  expect(schema.fields.map((f: { name: string; type: string }) => `${f.name}:${f.type}`)).toEqual([
    "part_id:string",
    "node_id:string",
    "file_type:string",
    "version:long",
    "timestamp:timestamp",
    "content:binary",
    "sha256:string",
    "size:long",
    "min_event_time:long",
    "max_event_time:long",
    "attributes:string",
  ]);
});

test("pondTableActions() returns protocol 1/2 and metaData partitioned by part_id", () => {
  const [protocol, metaData] = pondTableActions("pond-1", 123);
  expect(protocol).toEqual({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } });
  expect(metaData).toMatchObject({
    metaData: {
      id: "pond-1",
      format: { provider: "parquet", options: {} },
      partitionColumns: ["part_id"],
      schemaString: OPLOG_SCHEMA_STRING,
      createdTime: 123,
    },
  });
});

test("writeEntryFile() writes part_id=<id>/part-<uuid>.parquet and returns its add action", async () => {
  const store = new LocalObjectStore(dir);
  const rows = [row(0), row(1, { content: null, min_event_time: null, max_event_time: null }), row(2)];
  const add = await writeEntryFile(store, PART, rows, { version: 7 });
  expect(add.path).toMatch(new RegExp(`^part_id=${PART}/part-[0-9a-f-]{36}\\.parquet$`));
  expect(add.partitionValues).toEqual({ part_id: PART });
  expect(add.size).toBe(fs.statSync(store.localPath(add.path)).size);
  expect(add.dataChange).toBe(true);
  expect(Math.abs(add.modificationTime - Date.now())).toBeLessThan(60_000);
  expect(add.tags).toEqual({ "pond.version": "7" });
  expect(JSON.parse(add.stats ?? "")).toEqual({
    numRecords: 3,
    minValues: {
      node_id: rows[0].node_id,
      file_type: "file:series",
      version: 1,
      size: 2,
      timestamp: "2023-11-14T22:13:20.000Z",
      min_event_time: 0,
      max_event_time: 5,
    },
    maxValues: {
      node_id: rows[2].node_id,
      file_type: "file:series",
      version: 3,
      size: 2,
      // 3,000 µs after the first row: rounded up to whole ms it is still .003.
      timestamp: "2023-11-14T22:13:20.003Z",
      min_event_time: 20,
      max_event_time: 25,
    },
    nullCount: { node_id: 0, file_type: 0, version: 0, timestamp: 0, content: 1, sha256: 0, size: 0, min_event_time: 1, max_event_time: 1, attributes: 0 },
  });
});

test("writeEntryFile() rounds the max timestamp stat up when it has a fraction of a millisecond", async () => {
  const add = await writeEntryFile(new MemoryObjectStore(), PART, [row(0, { timestamp: 1_500n })], { version: 1 });
  const stats = JSON.parse(add.stats ?? "");
  expect(stats.minValues.timestamp).toBe("1970-01-01T00:00:00.001Z");
  expect(stats.maxValues.timestamp).toBe("1970-01-01T00:00:00.002Z");
});

test("readEntryFile() returns the rows writeEntryFile() wrote, with part_id from partitionValues", async () => {
  const store = new LocalObjectStore(dir);
  const rows = [row(0), row(1, { content: null }), row(2, { content: new TextEncoder().encode("héllo") })];
  const add = await writeEntryFile(store, PART, rows, { version: 1 });
  expect(await readEntryFile(store, add)).toEqual(rows);
});

test("readEntryFile() reads the files of a committed pond table through loadSnapshot()", async () => {
  const store = new LocalObjectStore(dir);
  const a = await writeEntryFile(store, PART, [row(0)], { version: 0 });
  const other = "0190a0b0-0000-7000-8000-000000000002";
  const b = await writeEntryFile(store, other, [row(1, { part_id: other })], { version: 0 });
  await commit(store, 0, [...pondTableActions("pond-1", 5), { add: a }, { add: b }, { commitInfo: { timestamp: 5, operation: "CREATE TABLE" } }]);
  const snap = await loadSnapshot(store);
  expect(snap.metadata.partitionColumns).toEqual(["part_id"]);
  const all = (await Promise.all(snap.files.map((f) => readEntryFile(store, f)))).flat();
  expect(all.map((r) => r.part_id).sort()).toEqual([PART, other].sort());
});

test("writeEntryFile() refuses rows whose part_id is another partition", async () => {
  await expect(writeEntryFile(new MemoryObjectStore(), PART, [row(0, { part_id: "elsewhere" })], { version: 1 })).rejects.toBeInstanceOf(EntryPartitionError);
});

test("readEntryFile() throws CorruptLogError when the file is missing or its size differs from the log", async () => {
  const store = new MemoryObjectStore();
  const add = await writeEntryFile(store, PART, [row(0)], { version: 1 });
  const wrongSize = await readEntryFile(store, { ...add, size: add.size + 1 }).catch((e: unknown) => e);
  expect(wrongSize).toBeInstanceOf(CorruptLogError);
  expect((wrongSize as Error).message).toContain(add.path);
  await store.delete(add.path);
  const missing = await readEntryFile(store, add).catch((e: unknown) => e);
  expect(missing).toBeInstanceOf(CorruptLogError);
  expect((missing as Error).message).toContain("missing");
});
