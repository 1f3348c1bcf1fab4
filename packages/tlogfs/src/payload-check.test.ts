import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "@pond/tinyfs";
import {
  checkPayload,
  fileIdentity,
  fileVerifiedPayloads,
  payloadHashCount,
  pruneVerifiedPayloads,
  recordLinesParsed,
  VERIFIED_PAYLOADS_DIR,
  VERIFIED_PAYLOADS_LEGACY_FILE,
} from "./payload-check.ts";

const A = "a".repeat(64),
  A2 = `aa${"b".repeat(62)}`, // a third hash of shard aa.txt
  B = "b".repeat(64),
  C = "c".repeat(64),
  D = "d".repeat(64);
const AA = `aa${"0".repeat(62)}`; // same shard as A (aa.txt)

function withDir(fn: (control: string, dir: string) => void): void {
  const control = mkdtempSync(join(tmpdir(), "verified-"));
  try {
    fn(control, join(control, VERIFIED_PAYLOADS_DIR));
  } finally {
    rmSync(control, { recursive: true, force: true });
  }
}

const shard = (dir: string, sha: string) => join(dir, `${sha.slice(0, 2)}.txt`);
const write = (path: string, text: string) => {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
};

describe("fileVerifiedPayloads(): shards by the hash's first two hex digits", () => {
  test("records each hash in its own shard, read back by another process", () => {
    withDir((_control, dir) => {
      const rec = fileVerifiedPayloads(dir);
      rec.record(A, "1:1:1:1:1");
      rec.record(AA, "5:5:5:5:5");
      rec.record(B, "2:2:2:2:2");
      expect(readdirSync(dir).sort()).toEqual(["aa.txt", "bb.txt"]);
      expect(readFileSync(shard(dir, A), "utf8")).toBe(`${A} 1:1:1:1:1\n${AA} 5:5:5:5:5\n`);
      const fresh = fileVerifiedPayloads(dir);
      expect([fresh.has(A, "1:1:1:1:1"), fresh.has(AA, "5:5:5:5:5"), fresh.has(B, "2:2:2:2:2"), fresh.has(B, "1:1:1:1:1"), fresh.has(C, "1:1:1:1:1")]).toEqual([
        true,
        true,
        true,
        false,
        false,
      ]);
    });
  });

  test("a lookup parses only the lines of its own hash, however many other lines the record holds", () => {
    withDir((_control, dir) => {
      // 20,000 unrelated lines, 300 of them in the same shard as A.
      const lines: string[] = [];
      for (let i = 0; i < 20_000; i++) {
        const h = sha256Hex(new TextEncoder().encode(`x${i}`));
        if (h !== A) lines.push(`${h} ${i}:1:1:1:1\n`);
      }
      for (let i = 0; i < 300; i++) lines.push(`aa${i.toString(16).padStart(62, "1")} ${i}:2:2:2:2\n`);
      for (const l of lines) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${l.slice(0, 2)}.txt`), l, { flag: "a" });
      }
      const rec = fileVerifiedPayloads(dir);
      rec.record(A, "7:7:7:7:7");
      const fresh = fileVerifiedPayloads(dir);
      const before = recordLinesParsed.value;
      expect(fresh.has(A, "7:7:7:7:7")).toBe(true);
      expect(fresh.has(A, "7:7:7:7:8")).toBe(false);
      expect(recordLinesParsed.value - before).toBe(2); // A's one line, looked up twice
      expect(fresh.has(C, "1:1:1:1:1")).toBe(false);
      expect(recordLinesParsed.value - before).toBe(2);
    });
  });

  test("a hash recorded again (a new identity) rewrites its shard without the older line; other shards are not touched", () => {
    withDir((_control, dir) => {
      const rec = fileVerifiedPayloads(dir);
      rec.record(A, "1:1:1:1:1");
      rec.record(AA, "5:5:5:5:5");
      rec.record(B, "2:2:2:2:2");
      const bText = readFileSync(shard(dir, B), "utf8");
      const bIno = statSync(shard(dir, B)).ino;
      rec.record(A, "1:9:1:1:1");
      expect(readFileSync(shard(dir, A), "utf8")).toBe(`${AA} 5:5:5:5:5\n${A} 1:9:1:1:1\n`);
      expect([rec.has(A, "1:9:1:1:1"), rec.has(A, "1:1:1:1:1")]).toEqual([true, false]);
      expect(statSync(shard(dir, B)).ino).toBe(bIno);
      expect(readFileSync(shard(dir, B), "utf8")).toBe(bText);
      expect(readdirSync(dir).sort()).toEqual(["aa.txt", "bb.txt"]); // no temp file left
    });
  });

  test("a shard whose last line is torn keeps the next append whole", () => {
    withDir((_control, dir) => {
      write(shard(dir, A), `${AA} 1:2:3:4:5\n${"a".repeat(30)}`); // killed mid-append
      fileVerifiedPayloads(dir).record(A2, "6:7:8:9:10");
      fileVerifiedPayloads(dir).record(A, "6:7:8:9:11");
      const fresh = fileVerifiedPayloads(dir);
      expect([fresh.has(AA, "1:2:3:4:5"), fresh.has(A2, "6:7:8:9:10"), fresh.has(A, "6:7:8:9:11")]).toEqual([true, true, true]);
    });
  });
});

describe("the legacy single-file record (verified-payloads.txt, the builds before)", () => {
  test("a payload it lists with its current identity is not hashed again, a changed one is; the first write splits it into shards", () => {
    withDir((control, dir) => {
      const files = ["p1", "p2"].map((n) => {
        const path = join(control, n);
        writeFileSync(path, `payload ${n}\n`.repeat(100));
        return { path, sha256: sha256Hex(readFileSync(path)), size: statSync(path).size };
      });
      const [p1, p2] = files as [(typeof files)[0], (typeof files)[0]];
      const legacy = join(control, VERIFIED_PAYLOADS_LEGACY_FILE);
      const id = (p: string) => fileIdentity(statSync(p, { bigint: true }));
      writeFileSync(legacy, `${p1.sha256} ${id(p1.path)}\n${p2.sha256} ${id(p2.path)}\n${B} 2:2:2:2:2\n`);
      // p2 changes in place (same bytes back, so it still hashes right): a new ctime.
      const st = statSync(p2.path);
      writeFileSync(p2.path, readFileSync(p2.path));
      utimesSync(p2.path, st.atime, st.mtime);
      const ref = (p: typeof p1) => ({ hostPath: p.path, sha256: p.sha256, size: p.size, label: `"${p.path}" version 1` });

      const rec = fileVerifiedPayloads(dir);
      let hashed = payloadHashCount.value;
      checkPayload(ref(p1), rec);
      expect(payloadHashCount.value - hashed).toBe(0);
      // A read that hashes nothing leaves the legacy file as it is.
      expect(existsSync(legacy)).toBe(true);
      expect(existsSync(dir)).toBe(false);
      checkPayload(ref(p2), rec); // changed: hashed, recorded, and the record split
      expect(payloadHashCount.value - hashed).toBe(1);
      expect(existsSync(legacy)).toBe(false);

      const fresh = fileVerifiedPayloads(dir);
      const parsed = recordLinesParsed.value;
      hashed = payloadHashCount.value;
      checkPayload(ref(p1), fresh);
      checkPayload(ref(p2), fresh);
      expect(payloadHashCount.value - hashed).toBe(0);
      expect(fresh.has(B, "2:2:2:2:2")).toBe(true);
      expect(recordLinesParsed.value - parsed).toBe(3); // p1's line, p2's newest, B's: no legacy parse
      // A changed file is still hashed after the split.
      writeFileSync(p1.path, readFileSync(p1.path));
      checkPayload(ref(p1), fresh);
      expect(payloadHashCount.value - hashed).toBe(1);
    });
  });

  test("a shard already there keeps its lines when the legacy lines are appended to it", () => {
    withDir((control, dir) => {
      write(shard(dir, A), `${AA} 5:5:5:5:5`); // even with a torn-looking end
      writeFileSync(join(control, VERIFIED_PAYLOADS_LEGACY_FILE), `${A} 1:1:1:1:1\n${C} 3:3:3:3:3\n${D.slice(0, 30)}`);
      fileVerifiedPayloads(dir).forget([D]); // a write: splits, nothing of D to drop
      expect(existsSync(join(control, VERIFIED_PAYLOADS_LEGACY_FILE))).toBe(false);
      const fresh = fileVerifiedPayloads(dir);
      expect([fresh.has(AA, "5:5:5:5:5"), fresh.has(A, "1:1:1:1:1"), fresh.has(C, "3:3:3:3:3")]).toEqual([true, true, true]);
    });
  });
});

describe("pruneVerifiedPayloads()", () => {
  test("keeps the lines of payloads still there (the newest per hash), drops the others and a torn line; rewrites only the shards it changes", () => {
    withDir((_control, dir) => {
      write(shard(dir, A), `${A} 1:1:1:1:1\n${AA} 4:4:4:4:4\n${A} 1:9:1:1:1\n${A.slice(0, 40)}`);
      write(shard(dir, B), `${B} 2:2:2:2:2\n`);
      write(shard(dir, C), `${C} 3:3:3:3:3\n`);
      const cIno = statSync(shard(dir, C)).ino;
      const r = pruneVerifiedPayloads(dir, (sha) => sha !== B && sha !== AA);
      expect(r).toEqual({ kept: 2, dropped: 4 });
      expect(readFileSync(shard(dir, A), "utf8")).toBe(`${A} 1:9:1:1:1\n`);
      expect(existsSync(shard(dir, B))).toBe(false); // emptied: removed
      expect(statSync(shard(dir, C)).ino).toBe(cIno);
      const rec = fileVerifiedPayloads(dir);
      expect([rec.has(A, "1:9:1:1:1"), rec.has(C, "3:3:3:3:3"), rec.has(B, "2:2:2:2:2"), rec.has(A, "1:1:1:1:1")]).toEqual([true, true, false, false]);
      expect(readdirSync(dir).sort()).toEqual(["aa.txt", "cc.txt"]); // no temp file left
    });
  });

  test("a legacy file is split and pruned; a record with nothing to drop is left as it is; a missing record is no error", () => {
    withDir((control, dir) => {
      expect(pruneVerifiedPayloads(dir, () => false)).toEqual({ kept: 0, dropped: 0 });
      writeFileSync(join(control, VERIFIED_PAYLOADS_LEGACY_FILE), `${A} 1:1:1:1:1\n${B} 2:2:2:2:2\n`);
      expect(pruneVerifiedPayloads(dir, (sha) => sha === A)).toEqual({ kept: 1, dropped: 1 });
      expect(existsSync(join(control, VERIFIED_PAYLOADS_LEGACY_FILE))).toBe(false);
      expect(readdirSync(dir)).toEqual(["aa.txt"]);
      const text = readFileSync(shard(dir, A), "utf8");
      expect(pruneVerifiedPayloads(dir, () => true)).toEqual({ kept: 1, dropped: 0 });
      expect(readFileSync(shard(dir, A), "utf8")).toBe(text);
    });
  });

  test("appends after a prune land on whole lines of the new record", () => {
    withDir((_control, dir) => {
      write(shard(dir, A), `${A} 1:1:1:1:1\n${AA} 2:2:2:2:2`);
      const reader = fileVerifiedPayloads(dir);
      expect(reader.has(A, "1:1:1:1:1")).toBe(true);
      pruneVerifiedPayloads(dir, (sha) => sha === A);
      reader.record(C, "3:3:3:3:3");
      const fresh = fileVerifiedPayloads(dir);
      expect([fresh.has(A, "1:1:1:1:1"), fresh.has(C, "3:3:3:3:3"), fresh.has(AA, "2:2:2:2:2")]).toEqual([true, true, false]);
    });
  });
});

describe("fileVerifiedPayloads().forget()", () => {
  test("drops the lines of the payloads named, keeps the others (the newest per hash), rewrites only their shards, and later appends land on whole lines", () => {
    withDir((_control, dir) => {
      write(shard(dir, A), `${A} 1:1:1:1:1\n${AA} 4:4:4:4:4\n${A} 1:9:1:1:1\n${A.slice(0, 40)}`);
      write(shard(dir, B), `${B} 2:2:2:2:2\n`);
      write(shard(dir, C), `${C} 3:3:3:3:3\n`);
      const cIno = statSync(shard(dir, C)).ino;
      const rec = fileVerifiedPayloads(dir);
      rec.forget([B, AA, D]);
      expect(readFileSync(shard(dir, A), "utf8")).toBe(`${A} 1:9:1:1:1\n`);
      expect(existsSync(shard(dir, B))).toBe(false);
      expect(statSync(shard(dir, C)).ino).toBe(cIno);
      expect([rec.has(A, "1:9:1:1:1"), rec.has(B, "2:2:2:2:2"), rec.has(C, "3:3:3:3:3"), rec.has(AA, "4:4:4:4:4")]).toEqual([true, false, true, false]);
      rec.record(D, "4:4:4:4:4");
      const fresh = fileVerifiedPayloads(dir);
      expect([fresh.has(A, "1:9:1:1:1"), fresh.has(B, "2:2:2:2:2"), fresh.has(C, "3:3:3:3:3"), fresh.has(D, "4:4:4:4:4")]).toEqual([true, false, true, true]);
      expect(readdirSync(dir).sort()).toEqual(["aa.txt", "cc.txt", "dd.txt"]);
      // Nothing to drop: no shard is rewritten.
      const text = readFileSync(shard(dir, A), "utf8");
      const aIno = statSync(shard(dir, A)).ino;
      fresh.forget([`a${"e".repeat(63)}`]);
      expect(readFileSync(shard(dir, A), "utf8")).toBe(text);
      expect(statSync(shard(dir, A)).ino).toBe(aIno);
    });
  });
});
