import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore } from "./local-store.ts";
import { MemoryObjectStore } from "./memory-store.ts";
import { runObjectStoreContract } from "./object-store-contract.ts";
import { recordingStore } from "./recording-store.ts";

runObjectStoreContract("recordingStore(MemoryObjectStore)", async () => ({ store: recordingStore(new MemoryObjectStore()).store }));
runObjectStoreContract(
  "recordingStore(LocalObjectStore)",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "pond-recording-"));
    return { store: recordingStore(new LocalObjectStore(dir)).store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  { downloadTo: true },
);

test("recordingStore() records each call with its key in order", async () => {
  const { store, calls } = recordingStore(new MemoryObjectStore());
  await store.put("a", new Uint8Array([1]));
  await store.get("a");
  await store.head("b");
  for await (const _ of store.list("")) void _;
  await store.delete("a");
  expect(store.downloadTo).toBeUndefined(); // the memory store has none, so neither has its wrapper
  expect(calls).toEqual([
    { op: "put", key: "a" },
    { op: "get", key: "a" },
    { op: "head", key: "b" },
    { op: "list", key: "" },
    { op: "delete", key: "a" },
  ]);
});
