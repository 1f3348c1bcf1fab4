import { describe, expect, test } from "bun:test";
import { FileTable, REASON, type PondFile } from "./file-table.ts";
import { DeletedFiles } from "./operations.ts";
import { StepItems } from "./step-items.ts";

describe("FileTable", () => {
  test("add() and key() round-trip many rows of shared folders, multi-byte names included, past every initial capacity", () => {
    const t = new FileTable();
    const want: string[] = [];
    // 5,000 rows (the columns start at 1,024) of ~70-byte names (the name buffer starts at 64 KiB).
    for (let i = 0; i < 5000; i++) {
      const folder = i % 3 === 0 ? "_large_files/" : i % 3 === 1 ? `part_id=${i % 7}/` : "";
      const name = i % 11 === 0 ? `é😀-${i}` : `sha256=${String(i).padStart(64, "0")}`;
      expect(t.add(folder, name, i * 10, 1000 + i)).toBe(i);
      want.push(folder + name);
    }
    expect(t.length).toBe(5000);
    for (let i = 0; i < 5000; i++) {
      expect(t.key(i)).toBe(want[i]!);
      expect(t.size(i)).toBe(i * 10);
      expect(t.mtimeMs(i)).toBe(1000 + i);
      expect(t.unneededSince(i)).toBeUndefined();
    }
  });

  test("find() binary-searches rows in key order (a walk's), a missing key and rows outside the range give -1; commit and raiseSince note on a row", () => {
    const t = new FileTable();
    t.add("_delta_log/", "00000000000000000001.json", 1, 1);
    t.logRows = 1;
    const keys = ["_large_files/sha256=0a", "_large_files/sha256=ff", "a-b", "a/x", "a/é", "a0", "part_id=p/part-1.parquet", "part_id=p/part-2.parquet"];
    for (const k of keys) t.add(k.slice(0, k.lastIndexOf("/") + 1), k.slice(k.lastIndexOf("/") + 1), 1, 1);
    for (const [i, k] of keys.entries()) expect(t.find(k, t.logRows, t.length)).toBe(i + 1);
    for (const k of ["", "_large_files/sha256=0b", "a", "a/", "zz", "part_id=p/part-3.parquet"]) expect(t.find(k, t.logRows, t.length)).toBe(-1);
    expect(t.find("_delta_log/00000000000000000001.json", t.logRows, t.length)).toBe(-1);
    expect(t.find("_delta_log/00000000000000000001.json", 0, t.logRows)).toBe(0);
    expect(t.commit(7)).toBeUndefined();
    t.setCommit(7, 12);
    expect(t.commit(7)).toBe(12);
    t.raiseSince(1, 50);
    t.raiseSince(1, 40);
    expect(t.unneededSince(1)).toBe(50);
    t.raiseSince(1, 60);
    expect(t.unneededSince(1)).toBe(60);
  });

  test("why() gives each reason's text, the removing commit, horizon and checkpoint filled in; get() makes the record the scan used to keep", () => {
    const t = new FileTable();
    t.add("_delta_log/", "00000000000000000001.json", 5, 10);
    t.add("_delta_log/", "00000000000000000009.json", 6, 11);
    t.logRows = 2;
    t.add("part_id=a/", "part-1.parquet", 7, 12);
    t.add("part_id=a/", "part-2.parquet", 8, 13);
    t.add("_large_files/", "sha256=ab", 9, 14);
    t.add("_large_files/", ".tmp-x", 1, 15);
    t.add("", "notes.txt", 2, 16);
    t.horizon = 40;
    t.keepFrom = 30;
    t.mark(0, { kind: "log", reachable: false, reason: REASON.logOld, unneededSince: 100 });
    t.mark(1, { kind: "log", reachable: true, reason: REASON.logKept });
    t.mark(2, { kind: "entry", reachable: false, reason: REASON.entryRemoved, commit: 17, unneededSince: 99, orphan: false });
    t.mark(3, { kind: "entry", reachable: false, reason: REASON.entryOrphan, unneededSince: 13, orphan: true });
    t.mark(4, { kind: "large", reachable: false, reason: REASON.largeExpired, unneededSince: 98, orphan: false });
    t.mark(5, { kind: "temp", reachable: false, reason: REASON.temp, unneededSince: 15 });
    t.mark(6, { kind: "other", reachable: true, reason: REASON.other });
    const files: PondFile[] = [...t];
    expect(files).toEqual([
      {
        key: "part_id=a/part-1.parquet",
        size: 7,
        mtimeMs: 12,
        kind: "entry",
        reachable: false,
        unneededSince: 99,
        orphan: false,
        why: "removed by commit 17, behind the horizon 40",
      },
      {
        key: "part_id=a/part-2.parquet",
        size: 8,
        mtimeMs: 13,
        kind: "entry",
        reachable: false,
        unneededSince: 13,
        orphan: true,
        why: "no commit in the log names it (a crash before its commit)",
      },
      {
        key: "_large_files/sha256=ab",
        size: 9,
        mtimeMs: 14,
        kind: "large",
        reachable: false,
        unneededSince: 98,
        orphan: false,
        why: "named only by rows of expired snapshots",
      },
      { key: "_large_files/.tmp-x", size: 1, mtimeMs: 15, kind: "temp", reachable: false, unneededSince: 15, why: "a temp file a writer left" },
      { key: "notes.txt", size: 2, mtimeMs: 16, kind: "other", reachable: true, why: "not a pond file; left alone" },
      {
        key: "_delta_log/00000000000000000001.json",
        size: 5,
        mtimeMs: 10,
        kind: "log",
        reachable: false,
        unneededSince: 100,
        why: "log before checkpoint 30, which every unexpired snapshot reads from",
      },
      { key: "_delta_log/00000000000000000009.json", size: 6, mtimeMs: 11, kind: "log", reachable: true, why: "log of unexpired snapshots" },
    ]);
    // Every reason has a text (the undecided large file's is empty until the scan decides it).
    for (const r of Object.values(REASON)) {
      t.mark(6, { kind: "large", reachable: false, reason: r, commit: 3 });
      expect(typeof t.why(6)).toBe("string");
      if (r !== REASON.largeUndecided) expect(t.why(6).length).toBeGreaterThan(10);
    }
  });

  test("DeletedFiles makes the items of its rows, in its order, as StepItems list them after and before other parts", () => {
    const t = new FileTable();
    t.add("_delta_log/", "00000000000000000001.json", 5, 10);
    t.add("_large_files/", "sha256=ab", 9, 14);
    t.horizon = 4;
    t.keepFrom = 3;
    t.mark(0, { kind: "log", reachable: false, reason: REASON.logOld, unneededSince: 1 });
    t.mark(1, { kind: "large", reachable: false, reason: REASON.largeOrphan, unneededSince: 1, orphan: true });
    const deleted = new DeletedFiles(t, Uint32Array.from([1, 0]));
    expect([...deleted.keysAndSizes()]).toEqual([
      { key: "_large_files/sha256=ab", size: 9 },
      { key: "_delta_log/00000000000000000001.json", size: 5 },
    ]);
    const items = new StepItems(
      [{ key: "control/transactions/a.gz", size: 3, why: "archive", action: "archived" as const }],
      deleted,
      [],
      [{ key: "control/x", size: 1, why: "cache" }],
    );
    const want = [
      { key: "control/transactions/a.gz", size: 3, why: "archive", action: "archived" as const },
      { key: "_large_files/sha256=ab", size: 9, why: "no row names it (a crash before its commit)" },
      { key: "_delta_log/00000000000000000001.json", size: 5, why: "log before checkpoint 3, which every unexpired snapshot reads from" },
      { key: "control/x", size: 1, why: "cache" },
    ];
    expect(items.length).toBe(4);
    expect([...items]).toEqual(want);
    expect(items.toArray()).toEqual(want);
    expect(JSON.parse(JSON.stringify({ items }))).toEqual({ items: want });
    expect(new StepItems().length).toBe(0);
    expect(JSON.stringify(new StepItems())).toBe("[]");
  });
});
