// Issue 15: writers running while cleanup, checkpoint, merge and full run. Waiting for the lock (the
// default), every command finishes; told not to wait (POND_LOCK_TIMEOUT=0), a command may fail,
// but only with the lock's error (exit 3, "is locked by"), and its retry
// succeeds. Either way no acknowledged write is lost: every file written reads back, the
// series holds every appended row, fsck finds the pond whole, the folder is a valid Delta table
// and recover finds no transaction left half-done.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readDeltaTable } from "./support/delta-reader.ts";
import { FIXTURES, pond, pondOk, tempDir, type RunResult } from "./support/pond-cli.ts";

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir("pond-maintain-conc-");
});
afterAll(() => tmp?.cleanup());

const VEGA = join(FIXTURES, "timeseries/vega-datasets");

/** Runs `pond ARGS` until it succeeds; a failure must be the lock's (exit 3). Returns the attempts. */
async function untilDone(args: string[], opts: { pond: string; env?: Record<string, string> }, failures: string[]): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const r: RunResult = await pond(args, opts);
    if (r.code === 0) return attempt;
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 3, stderr: expect.stringContaining("is locked by") });
    failures.push(args.join(" "));
    if (attempt > 200) throw new Error(`pond ${args.join(" ")} never got the lock`);
    await Bun.sleep(20 + Math.random() * 40);
  }
}

async function scenario(name: string, env: Record<string, string>): Promise<void> {
  const P = { pond: join(tmp.dir, name) };
  await pondOk(["init"], P);
  await pondOk(["copy", `host://${join(VEGA, "seattle-weather-hourly-normals.csv")}`, "/old.csv"], P);
  await pondOk(["copy", `host://${join(VEGA, "weather.csv")}`, "/old.csv"], P);
  await pondOk(["rm", "/old.csv"], P);
  await pondOk(["maintain", "expire", "--keep-last", "1"], P);
  const o = { ...P, env };
  const failures: string[] = [];
  const written: { path: string; text: string }[] = [];
  let rows = 0;
  let writing = true;
  // Two writers: small and large data files; series appends.
  const files = (async () => {
    for (let i = 0; i < 8; i++) {
      const text = i % 3 === 0 ? `${name} large ${i}\n`.repeat(5000) : `${name} small ${i}\n`;
      const host = join(tmp.dir, `${name}-f${i}`);
      writeFileSync(host, text);
      await untilDone(["copy", "-p", `host://${host}`, `/w/f${i}`], o, failures);
      written.push({ path: `/w/f${i}`, text });
    }
  })();
  const series = (async () => {
    for (let i = 0; i < 6; i++) {
      const host = join(tmp.dir, `${name}-s${i}.csv`);
      writeFileSync(
        host,
        `timestamp,v\n${new Date(Date.UTC(2024, 0, 1 + i)).toISOString()},${i}\n${new Date(Date.UTC(2024, 0, 1 + i, 12)).toISOString()},${i}\n`,
      );
      await untilDone(["copy", `host+series+csv://${host}`, "/s.series"], o, failures);
      rows += 2;
    }
  })();
  // Maintenance, over and over, while they write.
  const maint = (async () => {
    const cmds = [
      ["maintain", "cleanup", "--retention", "0s"],
      ["maintain", "checkpoint"],
      ["maintain", "merge"],
      ["maintain", "full", "--keep-last", "2", "--retention", "0s"],
    ];
    let runs = 0;
    while (writing || runs < cmds.length) await untilDone(cmds[runs++ % cmds.length]!, o, failures);
    return runs;
  })();
  await Promise.all([files, series]);
  writing = false;
  const runs = await maint;
  console.log(`${name}: ${runs} maintenance runs during ${written.length} file writes and ${rows / 2} appends; ${failures.length} lock failure(s) retried`);
  for (const w of written) expect({ path: w.path, text: (await pondOk(["cat", w.path], P)).stdout }).toEqual(w);
  expect((await pondOk(["query", "SELECT count(*) AS n, sum(v) AS s FROM '/s.series'", "--format", "csv"], P)).stdout).toBe(
    `n,s\n${rows},${2 * (0 + 1 + 2 + 3 + 4 + 5)}\n`,
  );
  expect((await pondOk(["fsck"], P)).stdout).toContain("whole");
  await readDeltaTable(P.pond);
  // Nothing half-done was left: recover finds nothing to reconcile.
  const rec = JSON.parse((await pondOk(["recover", "--format", "json"], P)).stdout) as { reconciled: unknown[] };
  expect(rec.reconciled).toEqual([]);
}

describe("a writer running while maintenance runs", () => {
  test("waiting for the lock: every command finishes and no write is lost", async () => {
    await scenario("wait", {});
  }, 180_000);

  test("not waiting (POND_LOCK_TIMEOUT=0): a command fails only with the lock's error, its retry succeeds, no write is lost", async () => {
    await scenario("nowait", { POND_LOCK_TIMEOUT: "0" });
  }, 180_000);
});
