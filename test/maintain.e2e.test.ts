import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, POND_BIN, newPond, pond, pondOk } from "./support/pond-cli.ts";

let done: (() => void) | undefined;
afterEach(() => {
  done?.();
  done = undefined;
});

const SEATTLE = join(FIXTURES, "timeseries/vega-datasets/seattle-weather.csv");
const CO2 = join(FIXTURES, "timeseries/vega-datasets/co2-concentration.csv");

/** path → sha256 of every file under `dir` (the whole pond folder). */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out[full.slice(dir.length)] = new Bun.CryptoHasher("sha256").update(readFileSync(full)).digest("hex");
  }
  return out;
}

/** A pond from the fixtures: a table replaced, a series with three versions (the last one with different columns), a data file. */
async function fixturePond(): Promise<{ dir: string; P: { pond: string } }> {
  const t = await newPond();
  done = t.cleanup;
  const P = { pond: t.pondDir };
  await pondOk(["mkdir", "/w"], P);
  await pondOk(["copy", `host+csv://${SEATTLE}`, "/w/seattle.table"], P);
  await pondOk(["copy", `host+csv://${SEATTLE}`, "/w/seattle.table"], P);
  writeFileSync(join(t.dir, "a.csv"), "timestamp,v\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n");
  writeFileSync(join(t.dir, "b.csv"), "timestamp,v,w\n2024-01-02T00:00:00Z,3,x\n");
  await pondOk(["copy", `host+series+csv://${join(t.dir, "a.csv")}`, "/w/s.series"], P);
  await pondOk(["copy", `host+series+csv://${join(t.dir, "b.csv")}`, "/w/s.series"], P);
  await pondOk(["copy", `host+series+csv://${join(t.dir, "a.csv")}`, "/w/s.series"], P);
  await pondOk(["copy", `host://${CO2}`, "/co2.csv"], P);
  return { dir: t.dir, P };
}

/** What a user sees of snapshot `seq`: listings, describe, every version of every file, and queries. */
async function observe(P: { pond: string }, seq: number): Promise<string[]> {
  const at = ["--as-of", String(seq)];
  const out: string[] = [];
  const list = await pond(["list", "-l", "--format", "json", ...at], P);
  out.push(list.stdout + list.stderr);
  out.push((await pond(["describe", "/w/s.series", "--format", "json", ...at], P)).stdout);
  for (let v = 1; v <= 3; v++) out.push((await pond(["cat", "/w/s.series", "--version", String(v), "--format", "csv", ...at], P)).stdout);
  out.push((await pond(["cat", "/w/seattle.table", "--version", "1", "--format", "csv", ...at], P)).stdout);
  out.push((await pond(["query", "SELECT count(*), sum(v) FROM '/w/s.series'", "--format", "csv", ...at], P)).stdout);
  out.push((await pond(["cat", "/co2.csv", ...at], P)).stdout);
  return out;
}

describe("pond maintain", () => {
  test("--dry-run of expire, checkpoint, cleanup and full changes no byte of the pond folder", async () => {
    const { P } = await fixturePond();
    const before = hashTree(P.pond);
    for (const args of [
      ["expire", "--keep-last", "1"],
      ["expire", "--older-than", "0s"],
      ["checkpoint"],
      ["cleanup", "--retention", "0s"],
      ["full", "--keep-last", "1", "--retention", "0s"],
    ]) {
      const r = await pondOk(["maintain", ...args, "--dry-run", "--format", "json"], P);
      expect(JSON.parse(r.stdout).dryRun).toBe(true);
    }
    expect(hashTree(P.pond)).toEqual(before);
  }, 120_000);

  test("snapshots lists each transaction with its change map; expire refuses --as-of an expired snapshot, saying when", async () => {
    const { P } = await fixturePond();
    const snaps = JSON.parse((await pondOk(["maintain", "snapshots", "--format", "json"], P)).stdout);
    expect(snaps.length).toBe(8);
    expect(snaps[2].changes.created).toEqual(["/w/seattle.table"]);
    expect(snaps[3].changes.appended).toEqual(["/w/seattle.table"]);
    expect(snaps[3].bytesAdded).toBeGreaterThan(0);
    const csv = (await pondOk(["maintain", "snapshots", "--format", "csv"], P)).stdout;
    expect(csv.split("\n")[0]).toBe("seq,time,user,command,created,appended,removed,files_added,bytes_added,expired");
    const r = await pondOk(["maintain", "expire", "--keep-last", "3"], P);
    expect(r.stdout).toContain("the oldest readable is now 5");
    const bad = await pond(["cat", "/w/s.series", "--as-of", "4"], P);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Snapshot 4 was expired on \d{4}-\d\d-\d\dT/);
    expect(bad.stderr).toContain("--as-of 5");
    await pondOk(["cat", "/w/s.series", "--as-of", "5"], P);
    // --older-than 0s expires everything but the newest, which is never expired.
    await pondOk(["maintain", "expire", "--older-than", "0s"], P);
    const after = JSON.parse((await pondOk(["maintain", "snapshots", "--format", "json"], P)).stdout);
    expect(after.filter((s: { expired: boolean }) => !s.expired).map((s: { seq: number }) => s.seq)).toEqual([7]);
    const usage = await pond(["maintain", "expire", "--older-than", "soon"], P);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('"soon"');
  }, 120_000);

  test("snapshots' change map: a move removes its source and creates its destination, a link creates its path, rm removes", async () => {
    const t = await newPond();
    done = t.cleanup;
    const P = { pond: t.pondDir };
    await pondOk(["mkdir", "/w"], P);
    await pondOk(["copy", `host://${CO2}`, "/w/a.csv"], P);
    await pondOk(["mv", "/w/a.csv", "/w/b.csv"], P);
    await pondOk(["ln", "-s", "/w/b.csv", "/w/l.csv"], P);
    await pondOk(["rm", "/w/l.csv"], P);
    const snaps = JSON.parse((await pondOk(["maintain", "snapshots", "--format", "json"], P)).stdout);
    const byCommand = (c: string) => snaps.find((s: { command: string }) => s.command.startsWith(`pond ${c}`)).changes;
    expect(byCommand("mv")).toEqual({ created: ["/w/b.csv"], appended: [], removed: ["/w/a.csv"], other: [] });
    expect(byCommand("ln")).toEqual({ created: ["/w/l.csv"], appended: [], removed: [], other: [] });
    expect(byCommand("rm")).toEqual({ created: [], appended: [], removed: ["/w/l.csv"], other: [] });
    const csv = (await pondOk(["maintain", "snapshots", "--format", "csv"], P)).stdout.split("\n");
    expect(csv.find((l) => l.includes("pond mv"))).toContain(",/w/b.csv,,/w/a.csv,");
  }, 60_000);

  test("differential: every unexpired snapshot answers identically before and after expire, checkpoint and cleanup", async () => {
    const { P } = await fixturePond();
    const before = new Map<number, string[]>();
    for (let s = 4; s <= 7; s++) before.set(s, await observe(P, s));
    await pondOk(["maintain", "full", "--keep-last", "4", "--retention", "0s"], P);
    await pondOk(["maintain", "cleanup", "--retention", "0s"], P);
    for (let s = 4; s <= 7; s++) expect(await observe(P, s)).toEqual(before.get(s)!);
    expect((await pondOk(["fsck"], P)).stdout).toContain("whole");
  }, 240_000);

  test("fsck exits 0 on a whole pond and 4 naming the path and the fix for a missing or altered payload", async () => {
    const { P } = await fixturePond();
    const ok = await pond(["fsck"], P);
    expect(ok.code).toBe(0);
    const large = join(P.pond, "data/_large_files");
    const files = readdirSync(large)
      .map((n) => ({ n, size: statSync(join(large, n)).size }))
      .sort((a, b) => b.size - a.size);
    // Flip one byte of the biggest payload (a table's Parquet): same size, different hash.
    const victim = join(large, files[0]!.n);
    const bytes = readFileSync(victim);
    bytes[Math.floor(bytes.length / 2)] ^= 1;
    writeFileSync(victim, bytes);
    const flipped = await pond(["fsck"], P);
    expect(flipped.code).toBe(4);
    expect(flipped.stdout).toContain(`data/_large_files/${files[0]!.n}`);
    expect(flipped.stdout).toContain("hashes to");
    expect(flipped.stdout).toContain("fix: restore");
    rmSync(join(large, files[1]!.n));
    const missing = await pond(["fsck", "--quick", "--format", "json"], P);
    expect(missing.code).toBe(4);
    const problems = JSON.parse(missing.stdout).problems as { path: string; problem: string }[];
    expect(problems.map((p) => p.path)).toEqual([`data/_large_files/${files[1]!.n}`]); // quick: the flipped byte is not hashed
    expect(problems[0]!.problem).toContain("is missing");
  }, 120_000);
});

describe("pond maintain with a remote", () => {
  test("expire and cleanup keep what a remote has not received; push, verify and restore work after them and the restored pond has the full history", async () => {
    const { dir, P } = await fixturePond();
    const remote = `file://${join(dir, "remote")}`;
    await pondOk(["remote", "add", "backup", remote], P);
    await pondOk(["push", "backup"], P);
    writeFileSync(join(dir, "c.csv"), "timestamp,v\n2024-01-03T00:00:00Z,9\n");
    for (let i = 0; i < 3; i++) await pondOk(["copy", `host+series+csv://${join(dir, "c.csv")}`, "/w/s.series"], P);
    // Versions 8..10 are not on the remote yet: cleanup must not take the log or files a push needs.
    const full = await pondOk(["maintain", "full", "--keep-last", "1", "--retention", "0s"], P);
    expect(full.stdout).toContain('snapshots from 8 kept until remote "backup" has them');
    expect(full.stdout).not.toContain("_delta_log/00000000000000000008.json");
    const pushed = await pondOk(["push", "backup"], P);
    expect(pushed.stdout + pushed.stderr).not.toContain("rror");
    const v = await pond(["verify", "backup"], P);
    expect(v.code).toBe(0);
    // Now everything is pushed: cleanup may delete the expired history locally, and verify still does not call that a mismatch.
    const cleaned = JSON.parse((await pondOk(["maintain", "cleanup", "--retention", "0s", "--format", "json"], P)).stdout);
    expect(cleaned.steps[0].files).toBeGreaterThan(0);
    expect((await pond(["verify", "backup"], P)).code).toBe(0);
    expect((await pond(["cat", "/w/s.series", "--as-of", "3"], P)).stderr).toContain("was expired");
    const restored = join(dir, "restored");
    await pondOk(["restore", remote, "--pond", restored]);
    const old = await pondOk(["cat", "/w/seattle.table", "--as-of", "3", "--version", "1", "--format", "csv"], { pond: restored });
    expect(old.stdout.split("\n").length).toBeGreaterThan(1000);
    expect((await pondOk(["fsck"], { pond: restored })).stdout).toContain("whole");
    expect((await pondOk(["fsck"], P)).stdout).toContain("whole");
  }, 240_000);

  test("a writer running while cleanup runs: both finish and no write is lost", async () => {
    const { dir, P } = await fixturePond();
    await pondOk(["maintain", "expire", "--keep-last", "1"], P);
    writeFileSync(join(dir, "n.txt"), "new");
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 4; i++) {
      jobs.push(pondOk(["copy", `host://${join(dir, "n.txt")}`, `/n${i}.txt`], P));
      jobs.push(pondOk(["maintain", "cleanup", "--retention", "0s"], P));
    }
    await Promise.all(jobs);
    for (let i = 0; i < 4; i++) expect((await pondOk(["cat", `/n${i}.txt`], P)).stdout).toBe("new");
    expect((await pondOk(["fsck"], P)).stdout).toContain("whole");
  }, 240_000);

  test("SIGKILL of cleanup at random moments: the pond stays whole and recover settles it", async () => {
    const seed = Number(process.env.MAINTAIN_SEED ?? Math.floor(Math.random() * 1000));
    console.log(`cleanup kill test seed ${seed}`);
    const { dir, P } = await fixturePond();
    writeFileSync(join(dir, "d.txt"), "x");
    for (let i = 0; i < 66; i++) await pondOk(["copy", `host://${join(dir, "d.txt")}`, `/d${i}`], P);
    const want = (await pondOk(["query", "SELECT count(*), sum(v) FROM '/w/s.series'", "--format", "csv"], P)).stdout;
    await pondOk(["maintain", "expire", "--keep-last", "1"], P);
    await pondOk(["maintain", "checkpoint"], P);
    for (let k = 0; k < 6; k++) {
      const p = Bun.spawn([POND_BIN, "maintain", "cleanup", "--retention", "0s"], {
        env: { ...process.env, POND: P.pond },
        stdout: "ignore",
        stderr: "ignore",
      });
      await Bun.sleep(((seed * (k + 7)) % 400) + 20);
      p.kill("SIGKILL");
      await p.exited;
      await pondOk(["recover"], P);
      expect((await pondOk(["fsck"], P)).stdout).toContain("whole");
      expect((await pondOk(["query", "SELECT count(*), sum(v) FROM '/w/s.series'", "--format", "csv"], P)).stdout).toBe(want);
      expect((await pondOk(["cat", "/d65"], P)).stdout).toBe("x");
    }
  }, 300_000);
});

describe("pond config", () => {
  test("shows every setting with its default, sets a valid one, refuses an unknown key or a bad value without changing anything, and maintain uses it", async () => {
    const { P } = await fixturePond();
    const shown = JSON.parse((await pondOk(["config", "--format", "json"], P)).stdout) as { key: string; value: string | null; source: string }[];
    expect(shown.find((k) => k.key === "maintain.retention")).toMatchObject({ value: "7d", source: "default" });
    const before = hashTree(P.pond);
    const unknown = await pond(["config", "set", "maintain.colour", "blue"], P);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"maintain.colour" is not a pond setting');
    expect(unknown.stderr).toContain("maintain.retention");
    const bad = await pond(["config", "set", "maintain.keep-last", "0"], P);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("maintain.keep-last");
    expect(hashTree(P.pond)).toEqual(before);
    await pondOk(["config", "set", "maintain.keep-last", "2"], P);
    expect((await pondOk(["config"], P)).stdout).toContain("maintain.keep-last = 2  [set]");
    // expire with no flag takes the configured --keep-last.
    expect((await pondOk(["maintain", "expire"], P)).stdout).toContain("the oldest readable is now 6");
  }, 120_000);
});
