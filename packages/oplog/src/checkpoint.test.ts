import { join } from "node:path";
import { expect, test } from "bun:test";
import { CHECKPOINT_FIELDS, readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { CorruptLogError } from "./errors.ts";
import { LocalObjectStore } from "./local-store.ts";
import { checkpointKey, LAST_CHECKPOINT_KEY } from "./log-file-name.ts";
import { MemoryObjectStore } from "./memory-store.ts";
import type { ObjectMeta, ObjectStore } from "./object-store.ts";
import { describeParquet, encodeObjects } from "./parquet-codec.ts";
import type { Snapshot } from "./snapshot.ts";
import { FIXTURES } from "../../../test/support/fixtures.ts";

const SPARK = join(FIXTURES, "delta/delta-rs/simple_table_with_checkpoint");

async function metas(store: ObjectStore, keys: string[]): Promise<ObjectMeta[]> {
  return Promise.all(keys.map(async (k) => (await store.head(k)) ?? { key: k, size: 0, lastModified: 0 }));
}

const snapshot: Snapshot = {
  version: 7,
  timestamp: 1,
  protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["vacuumProtocolCheck"], writerFeatures: ["appendOnly", "vacuumProtocolCheck"] },
  metadata: {
    id: "4b2c…",
    name: "pond",
    description: null,
    format: { provider: "parquet", options: {} },
    schemaString: '{"type":"struct","fields":[]}',
    partitionColumns: ["part_id"],
    configuration: { "delta.appendOnly": "true" },
    createdTime: 1_700_000_000_000,
  },
  files: [
    {
      path: "part_id=a/part-1.parquet",
      partitionValues: { part_id: "a" },
      size: 2 ** 40,
      modificationTime: 1_700_000_000_001,
      dataChange: true,
      stats: '{"numRecords":3}',
      tags: { other: "x" },
      addedInVersion: 5,
    },
    { path: "p=%20x/part-2.parquet", partitionValues: { p: null }, size: 9, modificationTime: 2, dataChange: true, addedInVersion: null },
  ],
};

test("readCheckpoint() returns what writeCheckpoint() wrote, with addedInVersion in tags", async () => {
  const store = new MemoryObjectStore();
  await writeCheckpoint(store, snapshot);
  const state = await readCheckpoint(store, await metas(store, [checkpointKey(7)]));
  expect(state.protocol).toEqual(snapshot.protocol);
  expect(state.metadata).toEqual(snapshot.metadata);
  expect(state.files).toEqual([
    { ...snapshot.files[0], dataChange: false, tags: { other: "x", "pond.version": "5" } },
    { path: "p=%20x/part-2.parquet", partitionValues: { p: null }, size: 9, modificationTime: 2, dataChange: false, addedInVersion: null },
  ]);
  expect(JSON.parse(new TextDecoder().decode(await store.get(LAST_CHECKPOINT_KEY)))).toEqual({ version: 7, size: 4 });
});

test("writeCheckpoint() uses the Delta checkpoint schema: struct columns with string maps", async () => {
  const store = new MemoryObjectStore();
  await writeCheckpoint(store, snapshot);
  const d = await describeParquet(await store.get(checkpointKey(7)));
  const cols = d.columns.map((c) => c.path);
  for (const p of [
    "add.path",
    "add.partitionValues.key_value.key",
    "add.partitionValues.key_value.value",
    "add.size",
    "add.modificationTime",
    "add.dataChange",
    "add.stats",
    "add.tags.key_value.value",
    "remove.path",
    "remove.deletionTimestamp",
    "metaData.format.provider",
    "metaData.partitionColumns.list.element",
    "metaData.configuration.key_value.key",
    "protocol.minReaderVersion",
    "protocol.readerFeatures.list.element",
    "txn.appId",
  ]) {
    expect(cols).toContain(p);
  }
  expect(d.columns.find((c) => c.path === "add.size")?.type).toBe("INT64");
  expect(d.columns.find((c) => c.path === "protocol.minReaderVersion")?.type).toBe("INT32");
  expect(d.numRows).toBe(4);
});

test("readCheckpoint() reads the checkpoint Spark wrote", async () => {
  const store = new LocalObjectStore(SPARK);
  const state = await readCheckpoint(store, await metas(store, [checkpointKey(10)]));
  expect(state.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
  expect(state.metadata.id).toBe("cf3741a3-5f93-434f-99ac-9a4bebcdf06c");
  expect(state.metadata.format).toEqual({ provider: "parquet", options: {} });
  expect(state.files).toHaveLength(11);
  expect(state.files[0]).toEqual({
    path: "part-00000-9afd9224-729f-4420-a05e-8032113a6568-c000.snappy.parquet",
    partitionValues: {},
    size: 442,
    modificationTime: 1615751706698,
    dataChange: false,
    addedInVersion: null,
  });
});

test("readCheckpoint() joins the parts of a multi-part checkpoint", async () => {
  const store = new MemoryObjectStore();
  const k1 = "_delta_log/00000000000000000003.checkpoint.0000000001.0000000002.parquet";
  const k2 = "_delta_log/00000000000000000003.checkpoint.0000000002.0000000002.parquet";
  const add = (p: string) => ({ add: { path: p, partitionValues: {}, size: 1, modificationTime: 1, dataChange: false } });
  await store.put(k1, encodeObjects(CHECKPOINT_FIELDS, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, add("a")]));
  await store.put(k2, encodeObjects(CHECKPOINT_FIELDS, [{ metaData: snapshot.metadata }, add("b")]));
  const state = await readCheckpoint(store, await metas(store, [k1, k2]));
  expect(state.files.map((f) => f.path)).toEqual(["a", "b"]);
  expect(state.metadata.id).toBe(snapshot.metadata.id);
});

test("readCheckpoint() throws CorruptLogError naming the file when it is not Parquet", async () => {
  const store = new MemoryObjectStore();
  await store.put(checkpointKey(4), new TextEncoder().encode("nope"));
  const err = await readCheckpoint(store, await metas(store, [checkpointKey(4)])).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CorruptLogError);
  expect((err as Error).message).toContain(checkpointKey(4));
});

test("readCheckpoint() throws CorruptLogError when the checkpoint has no metaData", async () => {
  const store = new MemoryObjectStore();
  await store.put(checkpointKey(4), encodeObjects(CHECKPOINT_FIELDS, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }]));
  await expect(readCheckpoint(store, await metas(store, [checkpointKey(4)]))).rejects.toThrow("has no metaData action");
});
