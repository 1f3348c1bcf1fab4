import { expect, test } from "bun:test";
import { CorruptLogError } from "./errors.ts";
import { checkpointKey, commitKey, LAST_CHECKPOINT_KEY } from "./log-file-name.ts";
import { listLog, listLogForLatest } from "./log-listing.ts";
import { MemoryObjectStore } from "./memory-store.ts";
import { recordingStore } from "./recording-store.ts";

const EMPTY = new Uint8Array(0);

async function logOf(latest: number, checkpoints: number[], lastCheckpoint?: string) {
  const store = new MemoryObjectStore();
  for (let v = 0; v <= latest; v++) await store.put(commitKey(v), EMPTY);
  for (const c of checkpoints) await store.put(checkpointKey(c), EMPTY);
  if (lastCheckpoint !== undefined) await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode(lastCheckpoint));
  await store.put("_delta_log/.tmp/00000000000000099999.json", EMPTY);
  return store;
}

test("listLog() lists every commit and checkpoint when given no start", async () => {
  const log = await listLog(await logOf(12, [10]));
  expect([...log.commits.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 13 }, (_, i) => i));
  expect([...log.checkpoints.keys()]).toEqual([10]);
  expect(log.latest).toBe(12);
});

test("listLog() lists only the blocks from the start version's hundred, moving on while a block is full", async () => {
  const { store, calls } = recordingStore(await logOf(230, [100, 200]));
  const log = await listLog(store, 150);
  expect(calls.map((c) => c.key)).toEqual(["_delta_log/000000000000000001", "_delta_log/000000000000000002"]);
  expect(log.latest).toBe(230);
  expect(Math.min(...log.commits.keys())).toBe(100);
  expect([...log.checkpoints.keys()].sort()).toEqual([100, 200]);
});

test("listLog() sees a version past the block end when the block is exactly full", async () => {
  const log = await listLog(await logOf(200, [100]), 100);
  expect(log.latest).toBe(200);
});

test("listLog() ignores a multi-part checkpoint until all its parts exist", async () => {
  const store = await logOf(5, []);
  await store.put("_delta_log/00000000000000000005.checkpoint.0000000001.0000000002.parquet", EMPTY);
  expect((await listLog(store)).checkpoints.size).toBe(0);
  await store.put("_delta_log/00000000000000000005.checkpoint.0000000002.0000000002.parquet", EMPTY);
  const parts = (await listLog(store)).checkpoints.get(5)?.map((m) => m.key);
  expect(parts).toEqual([
    "_delta_log/00000000000000000005.checkpoint.0000000001.0000000002.parquet",
    "_delta_log/00000000000000000005.checkpoint.0000000002.0000000002.parquet",
  ]);
});

test("listLogForLatest() narrows the listing to _last_checkpoint's block when that checkpoint exists", async () => {
  const { store, calls } = recordingStore(await logOf(250, [100, 200], '{"version":200,"size":3}'));
  const log = await listLogForLatest(store);
  expect(log.latest).toBe(250);
  expect(calls.filter((c) => c.op === "list").map((c) => c.key)).toEqual(["_delta_log/000000000000000002"]);
});

test("listLogForLatest() lists the whole log when _last_checkpoint names a missing checkpoint or a later version is asked for less", async () => {
  const missing = await listLogForLatest(await logOf(250, [100], '{"version":200}'));
  expect(missing.latest).toBe(250);
  expect(missing.commits.has(0)).toBe(true);
  const before = await listLogForLatest(await logOf(250, [100, 200], '{"version":200}'), 150);
  expect(before.commits.has(0)).toBe(true);
});

test("listLogForLatest() throws CorruptLogError when _last_checkpoint is malformed", async () => {
  await expect(listLogForLatest(await logOf(3, [], "{not json"))).rejects.toBeInstanceOf(CorruptLogError);
  await expect(listLogForLatest(await logOf(3, [], '{"version":"x"}'))).rejects.toThrow(LAST_CHECKPOINT_KEY);
});

test("listLogForLatest() returns an empty listing when there is no log", async () => {
  expect((await listLogForLatest(new MemoryObjectStore())).latest).toBeNull();
});
