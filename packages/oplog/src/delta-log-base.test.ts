import { describe, expect, test } from "bun:test";
import { MemoryObjectStore } from "./memory-store.ts";
import { recordingStore } from "./recording-store.ts";
import { commit, loadSnapshot } from "./delta-log.ts";

describe("loadSnapshot() with a base snapshot", () => {
  test("replays only the commits after the base, reads no checkpoint, and gives the same files", async () => {
    const inner = new MemoryObjectStore();
    const add = (v: number) => ({ add: { path: `f${v}.parquet`, partitionValues: {}, size: v, modificationTime: v, dataChange: true } });
    await commit(inner, 0, [
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      { metaData: { id: "t", format: { provider: "parquet", options: {} }, schemaString: "{}", partitionColumns: [], configuration: {} } },
      add(0),
    ]);
    for (let v = 1; v <= 130; v++) await commit(inner, v, [add(v)]);
    const base = await loadSnapshot(inner, { version: 120 });
    const { store, calls } = recordingStore(inner);
    const viaBase = await loadSnapshot(store, { base });
    const plain = await loadSnapshot(inner);
    expect(viaBase.files.map((f) => f.path).sort()).toEqual(plain.files.map((f) => f.path).sort());
    expect(viaBase.version).toBe(130);
    const gets = calls.filter((c) => c.op === "get").map((c) => c.key);
    expect(gets.some((k) => k.includes("checkpoint.parquet"))).toBe(false);
    expect(gets.filter((k) => k.endsWith(".json") && k.startsWith("_delta_log/0")).length).toBe(10);
  });
  test("ignores a base that is newer than the version asked for", async () => {
    const store = new MemoryObjectStore();
    await commit(store, 0, [
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      { metaData: { id: "t", format: { provider: "parquet", options: {} }, schemaString: "{}", partitionColumns: [], configuration: {} } },
    ]);
    await commit(store, 1, [{ add: { path: "a.parquet", partitionValues: {}, size: 1, modificationTime: 1, dataChange: true } }]);
    const base = await loadSnapshot(store);
    expect((await loadSnapshot(store, { version: 0, base })).files).toEqual([]);
  });
});
