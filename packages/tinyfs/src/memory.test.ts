import { describe, expect, test } from "bun:test";
import { MemoryPersistence } from "./memory.ts";
import { runPersistenceContract } from "./persistence-contract.ts";
import { newTxnMeta } from "./txn-meta.ts";
import { ROOT_ID } from "./types.ts";
import { uuid7Time } from "./uuid7.ts";

runPersistenceContract("MemoryPersistence", async () => ({ persistence: new MemoryPersistence() }));

const meta = () => newTxnMeta(["pond", "test"], "tester");

describe("MemoryPersistence", () => {
  test("addVersion() stamps timestamps and node ids from the injected clock", async () => {
    let now = 1_700_000_000_123.5;
    const p = new MemoryPersistence({ now: () => now });
    const txn = await p.begin(meta());
    const id = txn.newNodeId();
    expect(uuid7Time(id)).toBe(1_700_000_000_123);
    const v1 = await txn.addVersion(ROOT_ID, id, "file:data", new Uint8Array([1]));
    now += 1000;
    const v2 = await txn.addVersion(ROOT_ID, id, "file:data", new Uint8Array([2]));
    expect([v1.timestamp, v2.timestamp]).toEqual([1_700_000_000_123_500n, 1_700_000_001_123_500n]);
  });

  test("view() throws NotFoundError naming the sequence when asOf is out of range", async () => {
    const p = new MemoryPersistence();
    for (const asOf of [1, -1, 0.5]) {
      await expect(p.view(asOf)).rejects.toMatchObject({ code: "not_found", message: `Transaction sequence ${asOf} does not exist` });
    }
  });

  test("commit() throws TransactionConflictError when another transaction committed first", async () => {
    const p = new MemoryPersistence();
    const t1 = await p.begin(meta());
    const t2 = await p.begin(meta());
    await t1.commit();
    await expect(t2.commit()).rejects.toMatchObject({ code: "commit_conflict", kind: "busy" });
    expect(p.seq).toBe(1);
  });

  test("commit() makes a new state value and leaves old views unchanged", async () => {
    const p = new MemoryPersistence();
    const v0 = await p.view();
    const txn = await p.begin(meta());
    await txn.writeDir(ROOT_ID, [{ name: "d", childNodeId: txn.newNodeId(), entryType: "directory", versionLastModified: 1 }]);
    await txn.commit();
    expect(await v0.listDir(ROOT_ID)).toEqual([]);
    expect((await (await p.view()).listDir(ROOT_ID)).length).toBe(1);
  });

  test("listDir() returns copies that callers may change", async () => {
    const p = new MemoryPersistence();
    const txn = await p.begin(meta());
    await txn.writeDir(ROOT_ID, [{ name: "d", childNodeId: txn.newNodeId(), entryType: "directory", versionLastModified: 1 }]);
    const listed = await txn.listDir(ROOT_ID);
    listed[0]!.name = "changed";
    listed.pop();
    expect((await txn.listDir(ROOT_ID)).map((e) => e.name)).toEqual(["d"]);
  });

  test("read() yields chunks of at most 64 KiB", async () => {
    const p = new MemoryPersistence();
    const txn = await p.begin(meta());
    const id = txn.newNodeId();
    await txn.addVersion(ROOT_ID, id, "file:data", new Uint8Array(150_000));
    const sizes: number[] = [];
    for await (const c of txn.read(ROOT_ID, id)) sizes.push(c.length);
    expect(sizes).toEqual([65_536, 65_536, 18_928]);
  });

  test("addVersion() throws WrongTypeError when asked for a directory version", async () => {
    const p = new MemoryPersistence();
    const txn = await p.begin(meta());
    await expect(txn.addVersion(ROOT_ID, txn.newNodeId(), "directory", new Uint8Array())).rejects.toMatchObject({ code: "wrong_type" });
    await expect(txn.addVersion(ROOT_ID, ROOT_ID, "file:data", new Uint8Array())).rejects.toMatchObject({ code: "type_change" });
  });

  test("writeDir() throws InvalidPathError when an entry name is not a valid name", async () => {
    const p = new MemoryPersistence();
    const txn = await p.begin(meta());
    await expect(txn.writeDir(ROOT_ID, [{ name: "a/b", childNodeId: txn.newNodeId(), entryType: "directory", versionLastModified: 1 }])).rejects.toMatchObject({
      code: "invalid_path",
    });
  });
});
