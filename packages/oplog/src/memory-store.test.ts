import { expect, test } from "bun:test";
import { MemoryObjectStore } from "./memory-store.ts";
import { runObjectStoreContract } from "./object-store-contract.ts";
import type { ObjectStore } from "./object-store.ts";

runObjectStoreContract("MemoryObjectStore", async () => ({ store: new MemoryObjectStore() }));

test("MemoryObjectStore stamps lastModified from the clock it is given", async () => {
  let t = 1_000;
  const store = new MemoryObjectStore({ now: () => t });
  await store.put("a", new Uint8Array([1]));
  t = 2_000;
  await store.put("b", new Uint8Array([2]));
  expect((await store.head("a"))?.lastModified).toBe(1_000);
  expect((await store.head("b"))?.lastModified).toBe(2_000);
});

test("MemoryObjectStore has no localPath", () => {
  const store: ObjectStore = new MemoryObjectStore();
  expect(store.localPath).toBeUndefined();
});
