// Issue 15, model-based: random operations (120 by default, to keep the suite fast on two
// cores; MAINTAIN_MODEL_STEPS=220 runs the 200+, as the commit that added this did) — data files
// written, replaced, renamed and removed, folders renamed and removed, series appended to and
// tables replaced through bin/pond — interleaved with expire, checkpoint and cleanup (through
// the library and through bin/pond). After every step, every version of every file of every
// unexpired snapshot reads back exactly what the model says it holds, and nothing else is
// listed. Seeded: MAINTAIN_MODEL_SEED replays a run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkpoint, cleanup, expire, Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { readDeltaTable } from "./support/delta-reader.ts";
import { horizonOf, readSnapshot, rng, seedFrom, unexpired } from "./support/maintain-harness.ts";
import { pondOk, tempDir } from "./support/pond-cli.ts";

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir("pond-maintain-model-");
});
afterAll(() => tmp?.cleanup());

const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** A snapshot in the model: path → the sha256 of each of its versions, oldest first. */
type Files = Map<string, string[]>;

describe("model: random operations interleaved with expire, checkpoint and cleanup", () => {
  test("after every step every unexpired snapshot reads completely and exactly", async () => {
    const seed = seedFrom("MAINTAIN_MODEL_SEED", "maintenance model test");
    const steps = Number(process.env.MAINTAIN_MODEL_STEPS ?? 120);
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const dir = join(tmp.dir, "pond");
    const P = { pond: dir };
    await pondOk(["init"], P);
    const model = new Map<number, Files>([[0, new Map()]]);
    let latest = 0;
    let n = 0;
    let hour = 0;
    const folders = ["/a", "/b", "/a/c"];
    let checkMs = 0;
    let checked = 0;
    const counts = { library: 0, cli: 0, expire: 0, checkpoint: 0, cleanup: 0 };
    const write = async (fn: (wd: WD) => Promise<unknown>) =>
      (await Pond.open(dir).write(["pond", "model"], async ({ txn }) => void (await fn(new WD(txn))))).seq;
    const bytes = (tag: string) => {
      const size = r() < 0.25 ? 66_000 + Math.floor(r() * 4000) : 10 + Math.floor(r() * 300);
      const out = new Uint8Array(size);
      out.set(new TextEncoder().encode(tag).subarray(0, size));
      for (let i = tag.length; i < size; i++) out[i] = Math.floor(r() * 256);
      return out;
    };
    /** The sha256 of each version of `path` as the newest snapshot holds it (for what bin/pond converted). */
    const versionsNow = async (path: string) => {
      const wd = new WD(await Pond.open(dir).view());
      const out: string[] = [];
      for (const v of (await wd.stat(path)).versions ?? []) out.push(sha(await wd.readAll(path, { version: v.version })));
      return out;
    };
    for (let step = 0; step < steps; step++) {
      const cur: Files = new Map(model.get(latest)!);
      const paths = [...cur.keys()];
      const what = `step ${step} (seed ${seed})`;
      const x = r();
      let seq: number | undefined;
      if (x < 0.3 || paths.length === 0) {
        // A data file, new or a new version of one.
        const data = paths.filter((p) => !p.endsWith(".series") && !p.endsWith(".table"));
        const p = data.length && r() < 0.35 ? pick(data) : `${pick(folders)}/f${n++}`;
        const c = bytes(p);
        seq = await write((wd) => wd.createFile(p, "file:data", c, { parents: true }));
        cur.set(p, [...(cur.get(p) ?? []), sha(c)]);
        counts.library++;
      } else if (x < 0.42) {
        // Through bin/pond: a series appended to (now and then with a new column) or a table replaced.
        const tabular = paths.filter((p) => p.endsWith(".series") || p.endsWith(".table"));
        const series = r() < 0.6;
        const target = tabular.length && r() < 0.6 ? pick(tabular) : `${pick(folders)}/t${n++}.${series ? "series" : "table"}`;
        const host = join(tmp.dir, `in${n++}.csv`);
        if (target.endsWith(".series")) {
          const extra = r() < 0.2 ? `,c${n}` : "";
          let text = `timestamp,v${extra}\n`;
          for (let k = 0; k < 3; k++)
            text += `${new Date(Date.UTC(2024, 0, 1) + hour++ * 3_600_000).toISOString()},${Math.floor(r() * 1000)}${extra ? ",x" : ""}\n`;
          writeFileSync(host, text);
          await pondOk(["copy", "-p", `host+series+csv://${host}`, target], P);
        } else {
          writeFileSync(host, `id,value\n1,${Math.floor(r() * 1e6)}\n2,${step}\n`);
          await pondOk(["copy", "-p", `host+csv://${host}`, target], P);
        }
        seq = await Pond.open(dir).seq();
        cur.set(target, await versionsNow(target));
        counts.cli++;
      } else if (x < 0.5) {
        const p = pick(paths);
        const to = `${pick(folders)}/m${n++}${p.includes(".") ? p.slice(p.lastIndexOf(".")) : ""}`;
        seq = await write(async (wd) => {
          await wd.mkdir(to.slice(0, to.lastIndexOf("/")), { parents: true });
          await wd.rename(p, to);
        });
        cur.set(to, cur.get(p)!);
        cur.delete(p);
        counts.library++;
      } else if (x < 0.58) {
        const p = pick(paths);
        seq = await write((wd) => wd.remove(p));
        cur.delete(p);
        counts.library++;
      } else if (x < 0.61) {
        // A whole folder removed, or renamed.
        const f = pick(["/a/c", "/b"]);
        const inside = paths.filter((p) => p.startsWith(`${f}/`));
        if (r() < 0.5) {
          seq = await write(async (wd) => (await wd.exists(f)) && wd.remove(f, { recursive: true }));
          for (const p of inside) cur.delete(p);
        } else {
          const to = `/a/moved${n++}`;
          seq = await write(async (wd) => (await wd.exists(f)) && wd.rename(f, to));
          for (const p of inside) {
            cur.set(to + p.slice(f.length), cur.get(p)!);
            cur.delete(p);
          }
        }
        counts.library++;
      } else {
        // Maintenance: a third of it through bin/pond.
        const y = r();
        const cli = r() < 0.34;
        const pond = Pond.open(dir);
        if (y < 0.4) {
          const keep = 1 + Math.floor(r() * 6);
          if (cli) await pondOk(["maintain", "expire", "--keep-last", String(keep)], P);
          else await expire(pond, { keepLast: keep, label: "model" });
          counts.expire++;
        } else if (y < 0.6) {
          if (cli) await pondOk(["maintain", "checkpoint"], P);
          else await checkpoint(pond);
          counts.checkpoint++;
        } else {
          if (cli) await pondOk(["maintain", "cleanup", "--retention", "0s"], P);
          else await cleanup(pond, { retentionMs: 0 });
          counts.cleanup++;
        }
      }
      if (seq !== undefined) {
        expect({ what, seq }).toEqual({ what, seq: latest + 1 });
        latest = seq;
        model.set(seq, cur);
      }
      // Every unexpired snapshot, every version of every file, read back.
      const t0 = performance.now();
      const reader = Pond.open(dir);
      const cache = new Map<string, string>();
      for (let s = horizonOf(dir); s <= latest; s++) {
        const want = new Map<string, string>();
        for (const [p, vs] of model.get(s)!)
          vs.forEach((h, i) => {
            want.set(`${p} v${i + 1}`, h);
          });
        const got = await readSnapshot(dir, s, reader, cache);
        if (got.size !== want.size || [...want].some(([k, h]) => got.get(k) !== h)) {
          const diff = [...new Set([...want.keys(), ...got.keys()])].filter((k) => want.get(k) !== got.get(k));
          throw new Error(`${what}: snapshot ${s} (horizon ${horizonOf(dir)}) reads wrong: ${diff.slice(0, 5).join(", ")}`);
        }
      }
      checkMs += performance.now() - t0;
      checked += latest - horizonOf(dir) + 1;
    }
    console.log(
      `model: ${steps} steps, ${JSON.stringify(counts)}, newest snapshot ${latest}, horizon ${horizonOf(dir)}; ${checked} snapshot reads took ${Math.round(checkMs)} ms`,
    );
    expect(counts.cli).toBeGreaterThan(0);
    expect(counts.expire * counts.checkpoint * counts.cleanup).toBeGreaterThan(0);
    // The end (`full`, whose merge may merge the series): all but the newest expired and cleaned; the newest still reads, the folder is a valid Delta table, fsck finds it whole.
    await pondOk(["maintain", "full", "--keep-last", "1", "--retention", "0s"], P);
    await readDeltaTable(dir);
    expect((await pondOk(["fsck"], P)).stdout).toContain("whole");
    const want = new Map<string, string>();
    for (const [p, vs] of model.get(latest)!)
      vs.forEach((h, i) => {
        want.set(`${p} v${i + 1}`, h);
      });
    // A merge in full may have committed one more snapshot: the newest reads as the model's newest.
    const newest = (await unexpired(P)).at(-1)!;
    expect([...(await readSnapshot(dir, newest))].sort()).toEqual([...want].sort());
  }, 300_000);
});
