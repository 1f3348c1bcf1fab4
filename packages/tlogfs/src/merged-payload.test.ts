import { describe, expect, test } from "bun:test";
import { MemoryObjectStore, loadSnapshot } from "@pond/oplog";
import { FS, WD, newTxnMeta } from "@pond/tinyfs";
import { stageContent } from "./content-store.ts";
import { createPondTable } from "./create-pond-table.ts";
import { MERGE_ATTRIBUTE, mergedRowAttributes, readMergeRecord } from "./merged-payload.ts";
import { TLogPersistence } from "./tlog-persistence.ts";
import type { TLogTransaction } from "./tlog-transaction.ts";

const ROOT = "00000000-0000-7000-8000-000000000000";

describe("merged payloads", () => {
  test("readMergeRecord() finds the record, strips it, and keeps the first one through a second merge", () => {
    expect(readMergeRecord('{"rows":3}')).toBeUndefined();
    const once = mergedRowAttributes('{"rows":3,"columns":[]}', { sha256: "a".repeat(64), size: 10 });
    expect(readMergeRecord(once)).toEqual({ record: { sha256: "a".repeat(64), size: 10 }, attributes: { rows: 3, columns: [] } });
    // Merged again (into a larger file): the record still names the version's own first payload.
    expect(mergedRowAttributes(once, { sha256: "b".repeat(64), size: 99 })).toBe(once);
    expect(JSON.parse(once)[MERGE_ATTRIBUTE].sha256).toBe("a".repeat(64));
  });

  test("mergeVersions(): versions keep number, hash, size, time, range and transaction; their rows name the merged file; earlier snapshots read the old rows", async () => {
    const store = new MemoryObjectStore();
    await createPondTable(store, "pond-1", newTxnMeta(["test"]));
    let t = 1_790_000_000_000;
    const p = new TLogPersistence(store, { now: () => t++ });
    const fs = new FS(p);
    for (let i = 0; i < 5; i++) {
      await fs.transaction(newTxnMeta(["t", String(i)]), async (wd) => {
        await wd.createFile("/s.series", "file:series", new TextEncoder().encode(`version ${i}`), {
          minEventTime: BigInt(i) * 1000n,
          maxEventTime: BigInt(i) * 1000n + 999n,
          attributes: { i },
        });
        await wd.createFile(`/other${i}`, "file:data", new TextEncoder().encode(`other ${i}`));
      });
    }
    const before = (await (await fs.view()).stat("/s.series")).versions!;
    const seqBefore = (await p.view()).seq;
    const txn = (await p.begin(newTxnMeta(["pond", "maintain", "merge"]))) as TLogTransaction;
    const st = await new WD(txn).stat("/s.series");
    const staged = await stageContent(store, new TextEncoder().encode("merged rows of 1..4"), { forceLarge: true });
    await txn.mergeVersions(st.parentId, st.nodeId, [1, 2, 3, 4], { sha256: staged.sha256, size: staged.size });
    await expect(txn.mergeVersions(st.parentId, st.nodeId, [9], { sha256: staged.sha256, size: staged.size })).rejects.toThrow("Version 9");
    await txn.commit();

    const view = await p.view();
    const after = (await new WD(view).stat("/s.series")).versions!;
    const visible = (vs: typeof before) => vs.map((v) => [v.version, v.sha256, v.size, v.timestamp, v.txnSeq, v.minEventTime, v.maxEventTime, v.attributes]);
    expect(visible(after)).toEqual(visible(before));
    expect(after.map((v) => view.storedPayload(v))).toEqual([
      ...[1, 2, 3, 4].map((v) => ({ sha256: staged.sha256, size: staged.size, mergedVersion: v })),
      { sha256: before[4]!.sha256, size: before[4]!.size },
    ]);
    // The folder's entry files holding versions 1..4 were rewritten as one (plus the commit's
    // own); the others (the pond's first, the 5th version's) stay as they were.
    const was = (await p.view(seqBefore)).index.files(ROOT);
    expect(view.index.files(ROOT).length).toBe(4);
    const kept = new Set(view.index.files(ROOT).map((f) => f.path));
    expect(was.filter((f) => kept.has(f.path)).map((f) => f.addedInVersion)).toEqual([seqBefore, 0]);
    expect(new TextDecoder().decode(await new WD(view).readAll("/other3"))).toBe("other 3");
    // The snapshot before the merge still names the versions' own payloads.
    const old = await p.view(seqBefore);
    expect((await new WD(old).stat("/s.series")).versions!.map((v) => old.storedPayload(v).sha256)).toEqual(before.map((v) => v.sha256));
    expect(new TextDecoder().decode(await new WD(old).readAll("/s.series", { version: 2 }))).toBe("version 1");
    // A fresh reader (no process cache) sees the same.
    const fresh = await new TLogPersistence(store).view();
    expect(visible((await new WD(fresh).stat("/s.series")).versions!)).toEqual(visible(before));
    expect((await loadSnapshot(store)).version).toBe(seqBefore + 1);
  });
});
