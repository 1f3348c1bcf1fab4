import { afterEach, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WD } from "@pond/tinyfs";
import { newPond, tempKit, type Kit } from "../backup-test-kit.ts";
import type { Pond } from "../pond.ts";
import { recover } from "../recover.ts";
import { planHorizon, readExpiry } from "./expiry.ts";
import { fsck } from "./fsck.ts";
import { checkpoint, cleanup, expire } from "./operations.ts";
import { randomFrom } from "@pond/tinyfs/testing";
import { fileDirCache, fileRowCache, isSeriesCacheFile } from "@pond/tlogfs";
import { Pond as PondClass } from "../pond.ts";
import { walk } from "./reachability.ts";

let kit: Kit | undefined;
afterEach(() => {
  kit?.cleanup();
  kit = undefined;
});

/** The project's seeded generator (tinyfs random.ts) as a function, so a failing run replays from its seed. */
function rng(seed: number): () => number {
  const r = randomFrom(seed);
  return () => r.next();
}

function content(r: () => number, tag: string): Uint8Array {
  // About one in four is a large file (≥ 64 KiB, stored in _large_files/), the rest inline.
  const size = r() < 0.25 ? 70_000 + Math.floor(r() * 20_000) : 10 + Math.floor(r() * 200);
  const out = new Uint8Array(size);
  const head = new TextEncoder().encode(tag);
  out.set(head.subarray(0, size));
  for (let i = head.length; i < size; i++) out[i] = Math.floor(r() * 256);
  return out;
}

async function write(pond: Pond, fn: (wd: WD) => Promise<unknown>): Promise<number> {
  return (await pond.write(["pond", "test"], async ({ txn }) => void (await fn(new WD(txn))))).seq;
}

/** Every path → bytes as of `seq`, read through the pond as a user would (`--as-of`). */
async function readAll(pond: Pond, seq: number, paths: Iterable<string>): Promise<Map<string, Uint8Array>> {
  const wd = new WD(await pond.view({ seq }));
  const out = new Map<string, Uint8Array>();
  for (const p of paths) out.set(p, await wd.readAll(p));
  return out;
}

describe("maintenance", () => {
  test("walk() lists every regular file sorted by key, with its size; `skip` leaves out one top-level folder, `prefix` leads every key", () => {
    kit = tempKit();
    const dir = join(kit.dir, "walked");
    const put = (rel: string, bytes: number) => {
      mkdirSync(join(dir, rel, ".."), { recursive: true });
      writeFileSync(join(dir, rel), new Uint8Array(bytes));
    };
    put("b/2.parquet", 2);
    put("_delta_log/00000000000000000000.json", 5);
    put("a/_delta_log/x", 3); // a folder of that name deeper down is not skipped
    put("a/1", 1);
    put("top", 4);
    // Sorted by the whole key, as one sort of the list would: "a-b" < "a/…" < "a0" ('-' < '/' < '0'),
    // though each folder is sorted on its own; a name with a multi-byte character keeps it.
    put("a-b", 6);
    put("a0", 7);
    put("a/é", 8);
    mkdirSync(join(dir, "empty"));
    symlinkSync(join(dir, "b"), join(dir, "link")); // not followed, not listed
    const keys = (files: { key: string; size: number }[]) => files.map((f) => `${f.key}:${f.size}`);
    const all = ["_delta_log/00000000000000000000.json:5", "a-b:6", "a/1:1", "a/_delta_log/x:3", "a/é:8", "a0:7", "b/2.parquet:2", "top:4"];
    expect(keys(walk(dir))).toEqual(all);
    expect(all.map((k) => k.slice(0, k.lastIndexOf(":")))).toEqual(all.map((k) => k.slice(0, k.lastIndexOf(":"))).sort());
    expect(keys(walk(dir, { skip: "_delta_log" }))).toEqual(all.slice(1));
    expect(keys(walk(join(dir, "_delta_log"), { prefix: "_delta_log/" }))).toEqual(["_delta_log/00000000000000000000.json:5"]);
    expect(walk(join(dir, "missing"))).toEqual([]);
    for (const f of walk(dir)) expect(f.mtimeMs).toBe(statSync(join(dir, f.key)).mtimeMs);
  });

  test("planHorizon() never expires the newest snapshot and never moves back", () => {
    const snaps = [0, 1, 2, 3].map((v) => ({ version: v, timestamp: v * 1000 }));
    expect(planHorizon(snaps, 0, { keepLast: 2, now: 5000 })).toBe(2);
    expect(planHorizon(snaps, 3, { keepLast: 4, now: 5000 })).toBe(3);
    expect(planHorizon(snaps, 0, { olderThanMs: 0, now: 99_999 })).toBe(3);
    expect(planHorizon(snaps, 0, { olderThanMs: 3500, now: 5000 })).toBe(2);
  });

  test("random writes, renames and removes interleaved with expire, checkpoint, cleanup and recover keep every unexpired snapshot readable", async () => {
    const seed = Number(process.env.MAINTAIN_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const steps = Number(process.env.MAINTAIN_STEPS ?? 220);
    console.log(`model test seed ${seed} (replay with MAINTAIN_SEED=${seed})`);
    const r = rng(seed);
    kit = tempKit();
    const pond = await newPond(join(kit.dir, "p"));
    // The model: the files (path → bytes) of each snapshot.
    const model = new Map<number, Map<string, Uint8Array>>([[0, new Map()]]);
    let latest = 0;
    let n = 0;
    const dirs = ["/a", "/b", "/a/c"];
    for (let step = 0; step < steps; step++) {
      const cur = new Map(model.get(latest)!);
      const paths = [...cur.keys()];
      const x = r();
      let wrote = true;
      let seq = latest;
      const what = `step ${step} (seed ${seed})`;
      if (x < 0.4 || paths.length === 0) {
        const p = `${dirs[Math.floor(r() * dirs.length)]}/f${n++}`;
        const c = content(r, p);
        seq = await write(pond, (wd) => wd.createFile(p, "file:data", c, { parents: true }));
        cur.set(p, c);
      } else if (x < 0.6) {
        const p = paths[Math.floor(r() * paths.length)]!;
        const c = content(r, p + "+");
        seq = await write(pond, (wd) => wd.createFile(p, "file:data", c));
        cur.set(p, c);
      } else if (x < 0.7) {
        const p = paths[Math.floor(r() * paths.length)]!;
        const to = `${dirs[Math.floor(r() * dirs.length)]}/m${n++}`;
        seq = await write(pond, async (wd) => {
          await wd.mkdir(to.slice(0, to.lastIndexOf("/")), { parents: true });
          await wd.rename(p, to);
        });
        cur.set(to, cur.get(p)!);
        cur.delete(p);
      } else if (x < 0.77) {
        const p = paths[Math.floor(r() * paths.length)]!;
        seq = await write(pond, (wd) => wd.remove(p));
        cur.delete(p);
      } else {
        wrote = false;
        const y = r();
        if (y < 0.35) await expire(pond, { keepLast: 1 + Math.floor(r() * 8), label: "test" });
        else if (y < 0.55) await checkpoint(pond);
        else if (y < 0.9) await cleanup(pond, { retentionMs: 0 });
        else await recover(pond);
      }
      if (wrote) {
        expect(seq).toBe(latest + 1);
        latest = seq;
        model.set(seq, cur);
      }
      // After every step: every unexpired snapshot reads completely and exactly.
      const horizon = readExpiry(pond.paths.control).horizon;
      for (let s = horizon; s <= latest; s++) {
        const want = model.get(s)!;
        const got = await readAll(pond, s, want.keys());
        for (const [p, bytes] of want) {
          if (!Buffer.from(got.get(p)!).equals(Buffer.from(bytes))) throw new Error(`${what}: snapshot ${s} reads ${p} wrong`);
        }
        const listed = new Set<string>();
        const wd = new WD(await pond.view({ seq: s }));
        for (const d of ["/a", "/b", "/a/c"]) if (await wd.exists(d)) for (const e of await wd.list(d)) if (e.entryType !== "directory") listed.add(e.path);
        expect([...listed].sort()).toEqual([...want.keys()].sort());
      }
      if (!wrote) {
        const report = await fsck(pond);
        if (report.problems.length) throw new Error(`${what}: fsck found ${JSON.stringify(report.problems)}`);
      }
    }
    // The last word: expire all but the newest, clean up everything, and the newest still reads.
    await expire(pond, { keepLast: 1, label: "test" });
    await checkpoint(pond);
    await cleanup(pond, { retentionMs: 0 });
    expect((await fsck(pond)).problems).toEqual([]);
    const got = await readAll(pond, latest, model.get(latest)!.keys());
    for (const [p, bytes] of model.get(latest)!) expect(Buffer.from(got.get(p)!).equals(Buffer.from(bytes))).toBe(true);
  }, 600_000);

  test("cleanup() keeps files unneeded for less than the retention and deletes a crash's orphans only after it", async () => {
    kit = tempKit();
    const pond = await newPond(join(kit.dir, "p"));
    await write(pond, (wd) => wd.createFile("/x", "file:data", new Uint8Array(100_000).fill(1)));
    await write(pond, (wd) => wd.createFile("/x", "file:data", new Uint8Array(100_000).fill(2)));
    await expire(pond, { keepLast: 1, label: "test" });
    // The first version's payload is unneeded since just now: a 7-day retention keeps it.
    const kept = await cleanup(pond, { retentionMs: 7 * 86_400_000 });
    expect(kept.files).toBe(0);
    // An orphan a crash left (a payload no row names), written just now and one written long ago.
    const large = join(pond.paths.data, "_large_files");
    writeFileSync(join(large, "sha256=" + "a".repeat(64)), "fresh orphan");
    writeFileSync(join(large, "sha256=" + "b".repeat(64)), "old orphan");
    const old = (Date.now() - 30 * 86_400_000) / 1000;
    utimesSync(join(large, "sha256=" + "b".repeat(64)), old, old);
    const day = await cleanup(pond, { retentionMs: 86_400_000 });
    expect(day.items.toArray().map((i) => i.key)).toEqual(["_large_files/sha256=" + "b".repeat(64)]);
    const later = await cleanup(pond, { retentionMs: 0, now: Date.now() + 1000 });
    expect(later.items.toArray().map((i) => i.key)).toEqual(["_large_files/sha256=" + "a".repeat(64)]);
    // Version 1 is a version of the newest snapshot's file (`cat --version 1`): expiring older snapshots keeps it.
    const wd = new WD(await pond.view());
    expect(Buffer.from(await wd.readAll("/x", { version: 1 })).equals(Buffer.from(new Uint8Array(100_000).fill(1)))).toBe(true);
    expect(Buffer.from(await wd.readAll("/x")).equals(Buffer.from(new Uint8Array(100_000).fill(2)))).toBe(true);
  });

  test("cleanup() deletes entry files that merging replaced once their snapshots expired, and the log before the checkpoint", async () => {
    kit = tempKit();
    const pond = await newPond(join(kit.dir, "p"));
    // 70 commits to one folder: its entry files are merged at 64 (a remove action in the log).
    for (let i = 0; i < 70; i++) await write(pond, (wd) => wd.createFile(`/f${i}`, "file:data", new TextEncoder().encode(`file ${i}`)));
    const none = await cleanup(pond, { retentionMs: 0 });
    expect(none.files).toBe(0); // nothing expired: every old entry file is still some snapshot's
    await expire(pond, { keepLast: 1, label: "test" });
    await checkpoint(pond);
    const done = await cleanup(pond, { retentionMs: 0 });
    expect(done.items.toArray().filter((i) => i.key.startsWith("part_id=")).length).toBeGreaterThan(50);
    expect(done.items.toArray().filter((i) => i.key.startsWith("_delta_log/")).length).toBe(70);
    expect((await fsck(pond)).problems).toEqual([]);
    const wd = new WD(await pond.view());
    for (let i = 0; i < 70; i++) expect(new TextDecoder().decode(await wd.readAll(`/f${i}`))).toBe(`file ${i}`);
    // Recover after the log before the checkpoint is gone deletes nothing a snapshot needs.
    expect((await recover(pond)).removed).toEqual([]);
  });

  test("cleanup() deletes a removed file's payloads once no unexpired snapshot reaches it and the retention passed; a moved or still-listed one stays", async () => {
    kit = tempKit();
    const pond = await newPond(join(kit.dir, "p"));
    const big = (n: number) => new Uint8Array(70_000).fill(n);
    const key = (n: number) => `_large_files/sha256=${new Bun.CryptoHasher("sha256").update(big(n)).digest("hex")}`;
    await write(pond, (wd) => wd.createFile("/d/gone", "file:data", big(1), { parents: true }));
    await write(pond, (wd) => wd.createFile("/d/gone", "file:data", big(2)));
    await write(pond, (wd) => wd.createFile("/d/moved", "file:data", big(3)));
    await write(pond, (wd) => wd.createFile("/e/in-removed-folder", "file:data", big(4), { parents: true }));
    await write(pond, (wd) => wd.createFile("/d/shared", "file:data", big(5)));
    await write(pond, (wd) => wd.createFile("/d/shared-too", "file:data", big(5)));
    await write(pond, async (wd) => {
      await wd.remove("/d/gone");
      await wd.rename("/d/moved", "/moved");
      await wd.remove("/e", { recursive: true });
      await wd.remove("/d/shared");
    });
    // Not yet expired: every snapshot before the removal still reaches them.
    expect((await cleanup(pond, { retentionMs: 0 })).files).toBe(0);
    await write(pond, (wd) => wd.createFile("/late", "file:data", new TextEncoder().encode("late")));
    const t = Date.now();
    await expire(pond, { keepLast: 1, label: "test", now: t });
    // Unneeded since the expiry: a day's retention keeps them for a day.
    expect((await cleanup(pond, { retentionMs: 86_400_000, now: t + 1000 })).items.toArray().filter((i) => i.key.startsWith("_large_files/"))).toEqual([]);
    const done = await cleanup(pond, { retentionMs: 86_400_000, now: t + 2 * 86_400_000 });
    const deleted = done.items
      .toArray()
      .filter((i) => i.key.startsWith("_large_files/"))
      .map((i) => i.key);
    expect(deleted.sort()).toEqual([key(1), key(2), key(4)].sort());
    expect((await fsck(pond)).problems).toEqual([]);
    const wd = new WD(await pond.view());
    expect(Buffer.from(await wd.readAll("/moved")).equals(Buffer.from(big(3)))).toBe(true);
    expect(Buffer.from(await wd.readAll("/d/shared-too")).equals(Buffer.from(big(5)))).toBe(true);
    expect(await wd.exists("/d/gone")).toBe(false);
  });

  test("cleanup() prunes the derived caches' records of the entry files it deleted, keeps the others, and every answer stays the same", async () => {
    kit = tempKit();
    const dir = join(kit.dir, "p");
    const pond = await newPond(dir);
    // Reads between writes fill the row and directory caches (tlogfs partition-index.ts) with
    // records of entry files that the merge of the folder's entry files at 64 commits then
    // replaces: what cleanup deletes once those snapshots expire.
    const paths: string[] = [];
    /** What a user reads, in a fresh process's Pond (only the caches on disk carry over). */
    const answers = async (at = dir) => {
      const p = PondClass.open(at);
      const wd = new WD(await p.view());
      const out: Record<string, string> = {};
      for (const d of ["/", "/d"])
        if (await wd.exists(d)) out[`ls ${d}`] = JSON.stringify((await wd.list(d)).map((e) => [e.name, e.entryType, e.versionLastModified]));
      for (const f of new Set(paths)) out[f] = new TextDecoder().decode(await wd.readAll(f));
      // Every version of the file written 80 times (what reads the row cache).
      if (await wd.exists("/v")) out.versions = JSON.stringify((await wd.stat("/v")).versions!.map((v) => [v.version, v.size, v.sha256]));
      return out;
    };
    const put = async (p: string, text: string) => {
      await write(pond, (wd) => wd.createFile(p, "file:data", new TextEncoder().encode(text), { parents: true }));
      paths.push(p);
    };
    const control = join(dir, "control");
    const caches = ["row-cache", "dir-cache.json", "dir-cache.jsonl"];
    for (let i = 0; i < 20; i++) await put(`/d/g${i}`, `g ${i}`);
    for (let i = 0; i < 40; i++) await put(i % 2 ? `/f${i}` : "/v", `file ${i}`);
    await answers();
    // The caches as a process that read here and never again left them: then the folder's
    // entry files are merged (at 64) and no read refreshes them (a merge and a cleanup in one
    // `maintain full`, a crash). Older caches are valid ones (entry files never change).
    const saved = join(kit.dir, "caches");
    for (const c of caches) if (existsSync(join(control, c))) cpSync(join(control, c), join(saved, c), { recursive: true });
    for (let i = 40; i < 80; i++) await put(i % 2 ? `/f${i}` : "/v", `file ${i}`);
    for (const c of caches) rmSync(join(control, c), { recursive: true, force: true });
    for (const c of caches) if (existsSync(join(saved, c))) cpSync(join(saved, c), join(control, c), { recursive: true });
    // The answers before, from a copy (reading the pond itself would refresh its caches).
    cpSync(dir, join(kit.dir, "copy"), { recursive: true });
    const before = await answers(join(kit.dir, "copy"));
    const cached = () => {
      const rows = new Set<string>();
      for (const n of readdirSync(join(control, "row-cache")).filter((n) => n.endsWith(".json") && !isSeriesCacheFile(n))) {
        const part = (JSON.parse(readFileSync(join(control, "row-cache", n), "utf8")) as { part: string }).part;
        for (const k of fileRowCache(join(control, "row-cache"), pond.identity.pondId).load(part).files.keys()) rows.add(k);
      }
      const dirs = new Set(fileDirCache(join(control, "dir-cache.json"), pond.identity.pondId).load().rows.paths());
      return { rows, dirs };
    };
    const onDisk = () =>
      new Set(
        walk(join(dir, "data"))
          .map((f) => f.key)
          .filter((k) => k.startsWith("part_id=")),
      );
    const was = cached();
    const wasOnDisk = onDisk();
    expect(was.rows.size).toBeGreaterThan(20);
    expect(was.dirs.size).toBeGreaterThan(20);
    await expire(pond, { keepLast: 1, label: "test" });
    await checkpoint(pond);
    const tree = hashTree(dir);
    const dry = await cleanup(pond, { retentionMs: 0, dryRun: true });
    expect(hashTree(dir)).toEqual(tree);
    const done = await cleanup(pond, { retentionMs: 0 });
    // The dry run planned exactly what the cleanup did, cache files included.
    expect(dry.items.toArray().map((i) => [i.key, i.size])).toEqual(done.items.toArray().map((i) => [i.key, i.size]));
    const cacheItems = done.items.toArray().filter((i) => i.key.startsWith("control/"));
    expect(cacheItems.map((i) => i.key)).toContain("control/dir-cache.json");
    expect(cacheItems.some((i) => i.key.startsWith("control/row-cache/"))).toBe(true);
    expect(done.bytes).toBe(done.items.toArray().reduce((s, i) => s + i.size, 0));
    expect(done.files).toBe(done.items.length);
    const deleted = new Set(
      done.items
        .toArray()
        .filter((i) => i.key.startsWith("part_id="))
        .map((i) => i.key),
    );
    expect(deleted.size).toBeGreaterThan(60);
    const staying = onDisk();
    for (const k of deleted) expect(staying.has(k)).toBe(false);
    const now = cached();
    // No record of a deleted file is left; every record of a file still on disk is.
    for (const set of [now.rows, now.dirs]) for (const k of set) expect(staying.has(k)).toBe(true);
    for (const k of was.rows) if (staying.has(k)) expect(now.rows.has(k)).toBe(true);
    for (const k of was.dirs) if (staying.has(k)) expect(now.dirs.has(k)).toBe(true);
    // The caches did hold records of files this cleanup deleted (else this test proves nothing).
    expect([...was.rows].filter((k) => deleted.has(k) && wasOnDisk.has(k)).length).toBeGreaterThan(10);
    expect([...was.dirs].filter((k) => deleted.has(k) && wasOnDisk.has(k)).length).toBeGreaterThan(10);
    // Every series summary and hash-prefix file left names only files on disk.
    for (const n of readdirSync(join(control, "row-cache")).filter(isSeriesCacheFile))
      for (const f of (JSON.parse(readFileSync(join(control, "row-cache", n), "utf8")) as { entryFiles: string[] }).entryFiles)
        expect(staying.has(f)).toBe(true);
    expect(await answers()).toEqual(before);
    // A second cleanup has nothing left to prune, and the caches rebuilt by those reads still answer the same.
    expect((await cleanup(pond, { retentionMs: 0 })).items.toArray().filter((i) => i.key.startsWith("control/"))).toEqual([]);
    expect(await answers()).toEqual(before);
    expect((await fsck(pond)).problems).toEqual([]);
  });

  test("dry runs change no byte of the pond folder", async () => {
    kit = tempKit();
    const pond = await newPond(join(kit.dir, "p"));
    for (let i = 0; i < 3; i++) await write(pond, (wd) => wd.createFile("/x", "file:data", new Uint8Array(70_000).fill(i)));
    const before = hashTree(pond.dir);
    await expire(pond, { keepLast: 1, label: "t", dryRun: true });
    await checkpoint(pond, { dryRun: true });
    const dry = await cleanup(pond, { retentionMs: 0, dryRun: true });
    expect(hashTree(pond.dir)).toEqual(before);
    // Planned against the dry expire and checkpoint before it (as `full --dry-run` runs them):
    // the log before the checkpoint they would write; the payloads are versions of the newest file.
    expect(dry.items.toArray().map((i) => i.key)).toEqual([0, 1, 2].map((v) => `_delta_log/${String(v).padStart(20, "0")}.json`));
  });
});

/** path → sha256 of every file under `dir`. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out[full.slice(dir.length)] = new Bun.CryptoHasher("sha256").update(readFileSync(full)).digest("hex") + ":" + statSync(full).size;
  }
  return out;
}
