import { expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ControlFileError } from "@pond/oplog";
import { sha256, tempFolder } from "../../../test/support/kit.ts";
import { archiveFileName, ControlHistory } from "./control-archive.ts";
import { appendControl, checkControlHistory, foldControl, readControl, readControlTail, type ControlRecord } from "./control-log.ts";
import { rotateControl } from "./control-rotate.ts";

/** A begin/committed pair a write makes, `i` making each unique. */
function write(path: string, i: number): void {
  const txnId = `0190000${String(i).padStart(5, "0")}-7000-8000-000000000000`;
  appendControl(path, { type: "begin", txnId, baseSeq: i, command: ["pond", "copy", `/f${i}`], user: "u", startedAt: 1_000 + i, pid: 7 });
  appendControl(path, { type: "committed", txnId, seq: i + 1, endedAt: 2_000 + i, durationMs: 1, changes: [`wrote /f${i}`] });
}

/** Every file under `dir` → sha256, to show a dry run changed no byte. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) out[join(e.parentPath, e.name)] = sha256(readFileSync(join(e.parentPath, e.name)));
  return out;
}

/** The history as one byte string, archives then the live file. */
function logical(path: string): string {
  using h = ControlHistory.open(path);
  return Buffer.concat(h.bytesFrom(0)).toString();
}

test("rotateControl() moves the live file's lines into archives and readControl() still returns every record, in order", () => {
  using t = tempFolder();
  const path = t.path("transactions.jsonl");
  for (let i = 0; i < 20; i++) write(path, i);
  const before = readControl(path);
  const bytesBefore = readFileSync(path, "utf8");
  const r1 = rotateControl(path, { thresholdBytes: 100 });
  expect(r1.archived).toEqual({ file: archiveFileName(0, bytesBefore.length), from: 0, to: bytesBefore.length, bytes: expect.any(Number) });
  expect(r1.archived!.bytes).toBeLessThan(bytesBefore.length / 3);
  expect(readFileSync(path, "utf8")).toBe(`{"type":"base","offset":${bytesBefore.length}}\n`);
  expect(readControl(path)).toEqual(before);
  // Appends go on after the header; a second rotation chains on from the first one's end.
  for (let i = 20; i < 30; i++) write(path, i);
  const mid = readControl(path);
  expect(mid.slice(0, before.length)).toEqual(before);
  expect(mid).toHaveLength(60);
  const r2 = rotateControl(path, { thresholdBytes: 100 });
  expect(r2.archived!.from).toBe(bytesBefore.length);
  expect(readdirSync(t.path("transactions")).sort()).toEqual([r1.archived!.file, r2.archived!.file]);
  expect(readControl(path)).toEqual(mid);
  expect(foldControl(readControl(path)).map((x) => x.status)).toEqual(Array(30).fill("committed"));
  // The logical bytes are exactly what was appended, in order: what push addresses.
  expect(logical(path)).toBe(mid.map((r) => JSON.stringify(r) + "\n").join(""));
});

test("rotateControl() leaves a live file at or under the threshold alone, and a dry run changes no byte", () => {
  using t = tempFolder();
  const path = t.path("transactions.jsonl");
  for (let i = 0; i < 5; i++) write(path, i);
  const size = readFileSync(path).length;
  expect(rotateControl(path, { thresholdBytes: size })).toEqual({ removed: [], liveBytes: size });
  const h0 = hashes(t.dir);
  const dry = rotateControl(path, { thresholdBytes: 10, dryRun: true });
  expect(dry.archived).toEqual({ file: archiveFileName(0, size), from: 0, to: size, bytes: expect.any(Number) });
  expect(hashes(t.dir)).toEqual(h0);
});

test("rotateControl() drops a torn last line, which is not history, and keeps every whole one", () => {
  using t = tempFolder();
  const path = t.path("transactions.jsonl");
  for (let i = 0; i < 5; i++) write(path, i);
  const before = readControl(path);
  const whole = readFileSync(path).length;
  writeFileSync(path, '{"type":"begin","txnId":"torn', { flag: "a" });
  expect(readControl(path)).toEqual(before);
  const r = rotateControl(path, { thresholdBytes: 10 });
  expect([r.archived!.from, r.archived!.to]).toEqual([0, whole]);
  expect(readControl(path)).toEqual(before);
  expect(readFileSync(path, "utf8")).toBe(`{"type":"base","offset":${whole}}\n`);
});

test("a rotation killed between its archive and the live file reads as before, and the next rotation settles it", () => {
  using t = tempFolder();
  const path = t.path("transactions.jsonl");
  for (let i = 0; i < 10; i++) write(path, i);
  const live = readFileSync(path);
  // What step 1 of a rotation leaves when the process dies before step 2: the archive, the old live file.
  mkdirSync(t.path("transactions"));
  const leftover = archiveFileName(0, live.length);
  writeFileSync(t.path("transactions", leftover), Bun.zstdCompressSync(live));
  const before = readControl(path);
  expect(before).toHaveLength(20); // not 40: the leftover is not read
  expect(checkControlHistory(path)).toEqual([]); // not damage: the next rotation removes it
  for (let i = 10; i < 15; i++) write(path, i);
  const grown = readControl(path);
  expect(grown).toHaveLength(30);
  const r = rotateControl(path, { thresholdBytes: 10 });
  expect(r.removed).toEqual([{ file: leftover, bytes: expect.any(Number) }]);
  expect(readFileSync(path, "utf8")).toBe(`{"type":"base","offset":${r.archived!.to}}\n`);
  expect(readdirSync(t.path("transactions"))).toEqual([r.archived!.file]);
  expect(readControl(path)).toEqual(grown);
});

test("an archive past the base that the live file does not continue is never removed: the rotation is refused and fsck's check names it", () => {
  using t = tempFolder();
  const path = t.path("transactions.jsonl");
  for (let i = 0; i < 10; i++) write(path, i);
  rotateControl(path, { thresholdBytes: 10 });
  const [archive] = readdirSync(t.path("transactions"));
  // The live file moved aside by hand: the new one starts at 0 and the archive is not its prefix.
  writeFileSync(path, "");
  for (let i = 100; i < 105; i++) write(path, i);
  expect(readControl(path)).toHaveLength(10);
  const r = rotateControl(path, { thresholdBytes: 10 });
  expect(r.archived).toBeUndefined();
  expect(r.refused).toContain(archive!);
  expect(r.removed).toEqual([]);
  expect(readdirSync(t.path("transactions"))).toEqual([archive!]);
  const damage = checkControlHistory(path);
  expect(damage.map((e) => (e.data as { path: string }).path)).toEqual([t.path("transactions", archive!)]);
  expect(damage[0]!.message).toContain("does not continue it");
});

test("readControl() names a damaged archive (not Zstandard; a line not JSON) and a missing one as ControlFileError with the file and the fix", () => {
  using t = tempFolder();
  const path = t.path("transactions.jsonl");
  for (let i = 0; i < 4; i++) write(path, i);
  const first = rotateControl(path, { thresholdBytes: 10 }).archived!;
  for (let i = 4; i < 8; i++) write(path, i);
  const second = rotateControl(path, { thresholdBytes: 10 }).archived!;
  const firstPath = t.path("transactions", first.file);
  const good = readFileSync(firstPath);
  const fail = () => {
    try {
      readControl(path);
    } catch (e) {
      return e as ControlFileError;
    }
    throw new Error("readControl did not fail");
  };
  writeFileSync(firstPath, Buffer.from("garbage, not zstd"));
  let e = fail();
  expect(e).toBeInstanceOf(ControlFileError);
  expect(e.message).toBe(`Control file "${firstPath}" is damaged: it is not a whole Zstandard frame (Decompression failed: InvalidZstdData)`);
  expect(e.hint).toContain("back from a backup");
  expect(checkControlHistory(path).map((x) => x.message)).toEqual([e.message]);
  // Same length, one line broken: decodes, but a line is not JSON.
  const text = Bun.zstdDecompressSync(good).toString().replace('{"type":"committed"', '{"type":"committed"'.replace("{", "["));
  writeFileSync(firstPath, Bun.zstdCompressSync(Buffer.from(text)));
  e = fail();
  expect(e.message).toMatch(new RegExp(`^Control file "${firstPath}" is damaged: line 2 is not JSON`));
  writeFileSync(firstPath, good);
  expect(readControl(path)).toHaveLength(16);
  // A missing archive is a gap in the history, never a silently shorter log.
  Bun.spawnSync(["rm", firstPath]);
  e = fail();
  expect(e.message).toContain(`no archive holds bytes [0, ${first.to}) of the history`);
  expect(second.from).toBe(first.to);
});

test("readControl() of a pond before rotation (no header, no archives) reads as it always did", () => {
  const recs: ControlRecord[] = [{ type: "begin", txnId: "a", baseSeq: 0, command: ["pond"], user: "u", startedAt: 1, pid: 1 }];
  using t = tempFolder({ "transactions.jsonl": recs.map((r) => JSON.stringify(r) + "\n").join("") });
  expect(readControl(t.path("transactions.jsonl"))).toEqual(recs);
  expect(readControl(t.path("absent.jsonl"))).toEqual([]);
});

test("readControlTail() reads only the newest archives it needs for the last N transactions", () => {
  using t = tempFolder();
  const path = t.path("transactions.jsonl");
  for (let i = 0; i < 30; i++) {
    write(path, i);
    if (i % 10 === 9) rotateControl(path, { thresholdBytes: 10 }); // three archives of 10 writes
  }
  for (let i = 30; i < 33; i++) write(path, i);
  const whole = foldControl(readControl(path));
  const [oldest, middle] = readdirSync(t.path("transactions")).sort();
  // The two older archives made unreadable: a tail that needs only the newest one never opens them.
  writeFileSync(t.path("transactions", oldest!), "damaged");
  writeFileSync(t.path("transactions", middle!), "damaged");
  for (const n of [1, 3, 4, 13]) expect(foldControl(readControlTail(path, n)).slice(-n)).toEqual(whole.slice(-n));
  expect(() => readControlTail(path, 14)).toThrow(ControlFileError);
  expect(() => readControl(path)).toThrow(ControlFileError);
});
