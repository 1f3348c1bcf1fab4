// Issue 15: SIGKILL of `pond maintain checkpoint`, `merge`, `cleanup` and `full` at random moments (many
// runs, each on a fresh copy of a pond with work pending for all four): the data folder stays a
// valid Delta table to an independent reader (test/support/delta-reader.ts, DuckDB reading the
// checkpoint), `pond recover` settles it, fsck finds it whole, every snapshot still unexpired
// reads exactly as before, and the command run again to its end leaves it whole too.
// MAINTAIN_KILL_SEED replays a run; MAINTAIN_KILL_RUNS (per command, default 3) raises the count.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { readDeltaTable } from "./support/delta-reader.ts";
import { horizonOf, readSnapshot, rng, seedFrom, unexpired } from "./support/maintain-harness.ts";
import { FIXTURES, POND_BIN, pond, pondOk, tempDir } from "./support/pond-cli.ts";

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir("pond-maintain-kill-");
});
afterAll(() => tmp?.cleanup());

const RUNS = Number(process.env.MAINTAIN_KILL_RUNS ?? 3);
const VEGA = join(FIXTURES, "timeseries/vega-datasets");

/**
 * 90 small files written to one folder (its entry files merged once: entry files to delete),
 * large files written and removed (payloads to delete), a table replaced and a series of six
 * versions through bin/pond,
 * then all but the newest 8 snapshots expired and a checkpoint: log files before it to delete,
 * and 4 writes after it (a new checkpoint to write). The writes go through the library: through
 * bin/pond they take a minute.
 */
async function preparedPond(): Promise<string> {
  const dir = join(tmp.dir, "prepared");
  await pondOk(["init"], { pond: dir });
  const p = Pond.open(dir);
  const write = (fn: (wd: WD) => Promise<unknown>) => p.write(["pond", "test"], async ({ txn }) => void (await fn(new WD(txn))));
  for (let i = 0; i < 90; i++) {
    await write(async (wd) => {
      await wd.createFile(`/many/f${i}`, "file:data", new TextEncoder().encode(`file ${i}\n`), { parents: true });
      // Every tenth write a large file, removed again four writes later.
      if (i % 10 === 0) await wd.createFile(`/big/b${i}`, "file:data", new Uint8Array(70_000).fill(i % 251), { parents: true });
      if (i % 10 === 4) await wd.remove(`/big/b${i - 4}`);
    });
  }
  await pondOk(["copy", `host+csv://${join(VEGA, "seattle-weather.csv")}`, "/t.table"], { pond: dir });
  await pondOk(["copy", `host+csv://${join(VEGA, "iowa-electricity.csv")}`, "/t.table"], { pond: dir });
  // A series of six one-row versions: five for merge to merge.
  for (let d = 1; d <= 6; d++) {
    const f = join(tmp.dir, `s${d}.csv`);
    await Bun.write(f, `timestamp,v\n2024-01-0${d}T00:00:00Z,${d}\n`);
    await pondOk(["copy", `host+series+csv://${f}`, "/s.series"], { pond: dir });
  }
  await pondOk(["maintain", "expire", "--keep-last", "8"], { pond: dir });
  await pondOk(["maintain", "checkpoint"], { pond: dir });
  for (let i = 0; i < 4; i++) await write((wd) => wd.createFile(`/late${i}`, "file:data", new TextEncoder().encode(`late ${i}`)));
  return dir;
}

/** Every unexpired snapshot, read through the library: seq → (path vN → sha256). */
async function readable(dir: string): Promise<Map<number, [string, string][]>> {
  const out = new Map<number, [string, string][]>();
  for (const s of await unexpired({ pond: dir })) out.set(s, [...(await readSnapshot(dir, s))]);
  return out;
}

const COMMANDS: { name: string; args: string[] }[] = [
  { name: "checkpoint", args: ["maintain", "checkpoint"] },
  { name: "merge", args: ["maintain", "merge"] },
  { name: "cleanup", args: ["maintain", "cleanup", "--retention", "0s"] },
  { name: "full", args: ["maintain", "full", "--keep-last", "1", "--retention", "0s"] },
];

describe("SIGKILL of maintenance at random moments", () => {
  test(`checkpoint, merge, cleanup and full, ${RUNS} kills each: a valid Delta table, recover settles it, nothing readable is lost`, async () => {
    const seed = seedFrom("MAINTAIN_KILL_SEED", "maintenance kill test");
    const r = rng(seed);
    const prepared = await preparedPond();
    const before = await readable(prepared);
    const count = (dir: string) => readdirSync(join(dir, "data"), { recursive: true }).length;
    const files = count(prepared);
    expect(before.size).toBe(8 + 4); // the 8 kept, the 4 later writes
    let n = 0;
    const copy = () => {
      const d = join(tmp.dir, `run-${n++}`);
      cpSync(prepared, d, { recursive: true, preserveTimestamps: true });
      return d;
    };
    for (const cmd of COMMANDS) {
      // How long the command takes uninterrupted, on a copy.
      const probe = copy();
      const t0 = performance.now();
      const done = await pondOk([...cmd.args, "--format", "json"], { pond: probe });
      const full = performance.now() - t0;
      const work = (JSON.parse(done.stdout) as { steps: { files: number }[] }).steps.reduce((s, x) => s + x.files, 0);
      expect({ cmd: cmd.name, hasWork: work > 0 }).toEqual({ cmd: cmd.name, hasWork: true });
      const outcomes: string[] = [];
      for (let k = 0; k < RUNS; k++) {
        const dir = copy();
        const proc = Bun.spawn([POND_BIN, ...cmd.args], { env: { ...process.env, POND: dir }, stdout: "ignore", stderr: "ignore" });
        // Half the kills at a random time of the uninterrupted run, half once the command has
        // changed a random number of the files it changes (polled), so that some land mid-work.
        const t1 = performance.now();
        let at: string;
        if (k % 2 === 0) {
          const ms = Math.floor(full * (0.3 + r() * 0.9));
          await Bun.sleep(ms);
          at = `${ms}ms`;
        } else {
          const want = 1 + Math.floor(r() * work);
          while (proc.exitCode === null && Math.abs(count(dir) - files) < want) await Bun.sleep(0);
          at = `${Math.round(performance.now() - t1)}ms (${want} file(s) changed)`;
        }
        proc.kill("SIGKILL");
        const code = await proc.exited;
        outcomes.push(`${at}: ${code === 0 ? "finished" : "killed"}, ${Math.abs(files - count(dir))} file(s) changed`);
        const what = `${cmd.name} killed at ${at} (seed ${seed}, run ${k})`;
        // The folder as the kill left it is a valid Delta table to another reader.
        try {
          await readDeltaTable(dir);
        } catch (e) {
          throw new Error(`${what}: ${(e as Error).message}`);
        }
        await pondOk(["recover"], { pond: dir });
        await readDeltaTable(dir);
        const fsck = await pond(["fsck"], { pond: dir });
        expect({ what, code: fsck.code, out: fsck.stdout }).toEqual({ what, code: 0, out: expect.stringContaining("whole") });
        // Every snapshot still unexpired reads as before (full may have expired more: those are gone
        // by design); one merge committed reads like the newest before it.
        const h = horizonOf(dir);
        const now = await readable(dir);
        for (const [s, content] of before) if (s >= h) expect({ what, s, content: now.get(s) }).toEqual({ what, s, content });
        const last = Math.max(...before.keys());
        for (const [s, content] of now) if (s > last) expect({ what, s, content }).toEqual({ what, s, content: before.get(last)! });
        // Run to its end, it settles the pond the same way.
        await pondOk(cmd.args, { pond: dir });
        await readDeltaTable(dir);
        const newest = (await unexpired({ pond: dir })).at(-1)!; // a merge may have committed one more
        expect({ what, content: [...(await readSnapshot(dir, newest))] }).toEqual({ what, content: before.get(last)! });
      }
      console.log(`${cmd.name}: uninterrupted ${Math.round(full)} ms; kills: ${outcomes.join(", ")}`);
    }
  }, 300_000);

  test("a kill between a checkpoint and its pointer: cleanup keeps the checkpoint _last_checkpoint names, and checkpoint run again repoints it", async () => {
    const dir = join(tmp.dir, "pointer");
    const P = { pond: dir };
    await pondOk(["init"], P);
    const log = join(dir, "data/_delta_log");
    const cp = (v: number) => join(log, `${String(v).padStart(20, "0")}.checkpoint.parquet`);
    writeFileSync(join(tmp.dir, "x.txt"), "x");
    for (let i = 0; i < 3; i++) await pondOk(["copy", `host://${join(tmp.dir, "x.txt")}`, `/x${i}`], P);
    await pondOk(["maintain", "checkpoint"], P);
    const older = readFileSync(join(log, "_last_checkpoint"), "utf8");
    for (let i = 3; i < 5; i++) await pondOk(["copy", `host://${join(tmp.dir, "x.txt")}`, `/x${i}`], P);
    await pondOk(["maintain", "checkpoint"], P);
    // What a kill after the new checkpoint's file and before its pointer leaves.
    writeFileSync(join(log, "_last_checkpoint"), older);
    await readDeltaTable(dir);
    await pondOk(["maintain", "expire", "--keep-last", "1"], P);
    await pondOk(["maintain", "cleanup", "--retention", "0s"], P);
    expect(existsSync(cp(3))).toBe(true);
    await readDeltaTable(dir);
    const again = JSON.parse((await pondOk(["maintain", "checkpoint", "--format", "json"], P)).stdout) as { steps: { items: { key: string }[] }[] };
    expect(again.steps[0]!.items.map((i) => i.key)).toEqual(["_delta_log/_last_checkpoint"]);
    expect(JSON.parse(readFileSync(join(log, "_last_checkpoint"), "utf8")).version).toBe(5);
    await pondOk(["maintain", "cleanup", "--retention", "0s"], P);
    expect(existsSync(cp(3))).toBe(false);
    expect((await readDeltaTable(dir)).checkpoint).toBe(5);
    expect((await pondOk(["fsck"], P)).stdout).toContain("whole");
  }, 60_000);
});
