import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURES, newPond, pond, pondOk } from "./support/pond-cli.ts";
import { randomFrom } from "@pond/tinyfs/testing";

let done: (() => void)[] = [];
afterEach(() => {
  for (const d of done) d();
  done = [];
});

const SEATTLE = join(FIXTURES, "timeseries/vega-datasets/seattle-weather.csv");

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

/** The project's seeded generator (tinyfs random.ts) as a function, so a failing run replays from its seed. */
function rng(seed: number): () => number {
  const r = randomFrom(seed);
  return () => r.next();
}

async function setup(): Promise<{ dir: string; P: { pond: string } }> {
  const t = await newPond();
  done.push(t.cleanup);
  return { dir: t.dir, P: { pond: t.pondDir } };
}

/** Lines of a CSV answer, the header first and the rest sorted (a merged file is in time order; SQL promises no order without ORDER BY). */
function sortedCsv(text: string): string[] {
  const [head, ...rows] = text.trimEnd().split("\n");
  return [head!, ...rows.sort()];
}

/**
 * What a user sees of series `path` as of `seq`: describe, list -l, every version's rows
 * (as stored: same order), all rows, a time range, an aggregate and a query.
 */
async function observe(P: { pond: string }, path: string, seq: number, versions: number, range: [string, string]): Promise<unknown[]> {
  const at = ["--as-of", String(seq)];
  const out: unknown[] = [];
  out.push((await pondOk(["describe", path, "--format", "json", ...at], P)).stdout);
  out.push((await pondOk(["describe", path, ...at], P)).stdout);
  out.push((await pondOk(["list", "-l", "--format", "json", ...at], P)).stdout);
  for (let v = 1; v <= versions; v++) out.push((await pondOk(["cat", path, "--version", String(v), "--format", "csv", ...at], P)).stdout);
  out.push(sortedCsv((await pondOk(["cat", path, "--format", "csv", ...at], P)).stdout));
  out.push(sortedCsv((await pondOk(["cat", path, "--format", "csv", "--time-start", range[0], "--time-end", range[1], ...at], P)).stdout));
  out.push((await pondOk(["query", `SELECT count(*) AS n, count(DISTINCT columns(*)) FROM '${path}'`, "--format", "csv", ...at], P)).stdout);
  out.push((await pondOk(["cat", path, "--sql", "SELECT * FROM source ORDER BY ALL", "--format", "json", ...at], P)).stdout);
  return out;
}

/** The seattle-weather fixture as a series of `n` versions, a column `note` appearing from version 7 on. */
async function seattleSeries(dir: string, P: { pond: string }, n: number): Promise<void> {
  const [head, ...rows] = readFileSync(SEATTLE, "utf8").trimEnd().split("\n");
  const per = Math.ceil(rows.length / n);
  for (let i = 0; i < n; i++) {
    const part = rows.slice(i * per, (i + 1) * per);
    const file = join(dir, `seattle-${i}.csv`);
    const extra = i >= 6;
    writeFileSync(file, [extra ? `${head},note` : head, ...part.map((r) => (extra ? `${r},n${i}` : r))].join("\n") + "\n");
    await pondOk(["copy", `host+series+csv://${file}`, "/w/seattle.series", "-p"], P);
  }
}

function json(text: string): { steps: { step: string; files: number; bytes: number; items: { key: string; size: number; why: string }[] }[] } {
  return JSON.parse(text);
}

describe("pond maintain merge", () => {
  test("a series from the fixtures: describe, cat --version, queries and --as-of answer the same after merge, expire and cleanup; fsck is whole", async () => {
    const { dir, P } = await setup();
    await seattleSeries(dir, P, 10);
    const seq = Number(JSON.parse((await pondOk(["maintain", "snapshots", "--format", "json"], P)).stdout).at(-1).seq);
    const range: [string, string] = ["2013-03-01", "2013-04-15"];
    const before = await observe(P, "/w/seattle.series", seq, 10, range);
    const r = json((await pondOk(["maintain", "merge", "--format", "json"], P)).stdout);
    const m = r.steps[0]!;
    expect(m.step).toBe("merge");
    expect(m.files).toBe(9); // the newest version keeps its own file
    expect(m.items.length).toBe(1);
    expect(m.items[0]!.why).toContain("/w/seattle.series versions 1..9");
    // Every snapshot answers the same: the one before the merge reads the old files.
    expect(await observe(P, "/w/seattle.series", seq, 10, range)).toEqual(before);
    expect(await observe(P, "/w/seattle.series", seq + 1, 10, range)).toEqual(before);
    // The old files go once no unexpired snapshot needs them.
    await pondOk(["maintain", "full", "--keep-last", "1", "--retention", "0s"], P);
    const large = readdirSync(join(P.pond, "data/_large_files")).filter((n) => !n.startsWith("."));
    expect(large.length).toBe(2); // the merged file and the newest version's own
    expect(await observe(P, "/w/seattle.series", seq + 1, 10, range)).toEqual(before);
    const v3 = await pond(["cat", "/w/seattle.series", "--version", "3", "--as-of", String(seq)], P);
    expect(v3.code).toBe(1);
    expect(v3.stderr).toContain("expired");
    expect((await pondOk(["fsck"], P)).stdout).toContain("whole");
    // The bytes of a merged version are a Parquet file of exactly its rows.
    const out = join(dir, "v3.parquet");
    writeFileSync(out, (await pondOk(["cat", "/w/seattle.series", "--version", "3", "--format", "parquet"], P)).stdoutBytes);
    expect((await pondOk(["cat", `host+table://${out}`, "--format", "csv"], P)).stdout).toBe(before[5] as string);
  }, 240_000);

  test("random appends (seeded) with columns appearing later answer the same after each of several merges", async () => {
    const seed = Number(process.env.MERGE_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`merge test seed ${seed} (replay with MERGE_SEED=${seed})`);
    const r = rng(seed);
    const { dir, P } = await setup();
    const cols: string[] = ["a"];
    let versions = 0;
    const append = async () => {
      if (r() < 0.25) cols.push(`c${cols.length}`);
      const n = 1 + Math.floor(r() * 6);
      const lines = [`timestamp,${cols.join(",")}`];
      // Versions overlap in time, and rows repeat timestamps: the merged file's order is by time.
      const start = Date.UTC(2024, 0, 1) + Math.floor(r() * 30) * 86_400_000;
      let t = start;
      for (let i = 0; i < n; i++) {
        t += Math.floor(r() * 3) * 3_600_000;
        lines.push([new Date(t).toISOString(), ...cols.map(() => String(Math.floor(r() * 1000)))].join(","));
      }
      const file = join(dir, `r${versions}.csv`);
      writeFileSync(file, lines.join("\n") + "\n");
      await pondOk(["copy", `host+series+csv://${file}`, "/r.series", "--allow-duplicate"], P);
      versions++;
    };
    const seqOf = async () => Number(JSON.parse((await pondOk(["maintain", "snapshots", "--format", "json"], P)).stdout).at(-1).seq);
    const range: [string, string] = ["2024-01-10", "2024-01-20"];
    const snapshots: { seq: number; n: number; seen: unknown[] }[] = [];
    for (let round = 0; round < 3; round++) {
      const k = 2 + Math.floor(r() * 3);
      for (let i = 0; i < k; i++) await append();
      const seq = await seqOf();
      snapshots.push({ seq, n: versions, seen: await observe(P, "/r.series", seq, versions, range) });
      await pondOk(["maintain", "merge"], P);
      // The new snapshot (none when there was nothing to merge) answers as the one before, and diff sees no row change.
      const now = await seqOf();
      expect(now - seq).toBeLessThanOrEqual(1);
      expect(await observe(P, "/r.series", now, versions, range)).toEqual(snapshots.at(-1)!.seen);
      const d = await pondOk(["diff", String(seq), String(now), "/r.series", "--rows", "--format", "csv"], P);
      expect(d.stdout.trimEnd().split("\n").length).toBe(1); // the header only
    }
    // Some merge happened (by the third round at least three similar unmerged versions wait).
    expect((await pondOk(["log"], P)).stdout).toContain("merged /r.series versions");
    // Every snapshot before a merge still answers as it did (its files are still there).
    for (const s of snapshots) expect(await observe(P, "/r.series", s.seq, s.n, range)).toEqual(s.seen);
  }, 300_000);

  test("tiers: a second merge leaves the first merged file alone when the new files are much smaller; --dry-run changes no byte", async () => {
    const { dir, P } = await setup();
    const write = async (i: number) => {
      const file = join(dir, `t${i}.csv`);
      writeFileSync(file, `timestamp,v\n2024-02-01T00:${String(i).padStart(2, "0")}:00Z,${i}\n`);
      await pondOk(["copy", `host+series+csv://${file}`, "/t.series"], P);
    };
    for (let i = 0; i < 12; i++) await write(i);
    const before = hashTree(P.pond);
    const dry = json((await pondOk(["maintain", "merge", "--dry-run", "--format", "json"], P)).stdout);
    expect(dry.steps[0]!.files).toBe(11);
    expect((await pondOk(["maintain", "full", "--keep-last", "1", "--retention", "0s", "--dry-run"], P)).stdout).toContain("merge (dry run)");
    expect(hashTree(P.pond)).toEqual(before);
    const first = json((await pondOk(["maintain", "merge", "--format", "json"], P)).stdout).steps[0]!;
    expect(first.items.map((i) => i.why)).toEqual([expect.stringContaining("versions 1..11 (11 files")]);
    // Three more: versions 13..15 (15 is the newest, kept). The merged file (11 versions) is
    // more than half of any run it could join, so only 12 (the newest before), 13 and 14 merge, into a second file.
    for (let i = 12; i < 15; i++) await write(i);
    const second = json((await pondOk(["maintain", "merge", "--format", "json"], P)).stdout).steps[0]!;
    expect(second.items.map((i) => i.why)).toEqual([expect.stringContaining("versions 12..14 (3 files")]);
    expect(readdirSync(join(P.pond, "data/_large_files"))).toContain(first.items[0]!.key.split("/")[1]!);
    // Nothing left worth merging: a run is only made when it at least doubles its largest file.
    expect(json((await pondOk(["maintain", "merge", "--format", "json"], P)).stdout).steps[0]!.items).toEqual([]);
    // --max-input-files bounds a run; a bad --target-size is a usage error naming it.
    const bad = await pond(["maintain", "merge", "--target-size", "huge"], P);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--target-size "huge"');
    const rows = (await pondOk(["cat", "/t.series", "--format", "csv"], P)).stdout.trimEnd().split("\n");
    expect(rows.length).toBe(16);
    expect(rows.slice(1).map((l) => Number(l.split(",")[1]))).toEqual([...Array(15).keys()]);
  }, 240_000);

  test("push, verify and restore after merge and cleanup: the remote keeps the full history", async () => {
    const { dir, P } = await setup();
    await seattleSeries(dir, P, 6);
    const remote = mkdtempSync(join(tmpdir(), "pond-merge-remote-"));
    done.push(() => rmSync(remote, { recursive: true, force: true }));
    await pondOk(["remote", "add", "usb", `file://${remote}`], P);
    await pondOk(["push", "usb"], P);
    const seq = Number(JSON.parse((await pondOk(["maintain", "snapshots", "--format", "json"], P)).stdout).at(-1).seq);
    const range: [string, string] = ["2012-06-01", "2012-07-01"];
    const before = await observe(P, "/w/seattle.series", seq, 6, range);
    await pondOk(["maintain", "merge"], P);
    await pondOk(["push", "usb"], P);
    await pondOk(["maintain", "full", "--keep-last", "1", "--retention", "0s"], P);
    expect((await pondOk(["verify", "usb"], P)).code).toBe(0);
    const copy = join(dir, "restored");
    await pondOk(["restore", `file://${remote}`, "--pond", copy]);
    const R = { pond: copy };
    // The restored pond has the whole history again: the snapshot before the merge reads its own files.
    expect(await observe(R, "/w/seattle.series", seq, 6, range)).toEqual(before);
    expect(await observe(R, "/w/seattle.series", seq + 1, 6, range)).toEqual(before);
    expect((await pondOk(["verify", "usb", "--deep"], P)).code).toBe(0);
    expect((await pondOk(["fsck"], R)).stdout).toContain("whole");
  }, 240_000);

  test("automatic maintenance: a write that leaves maintain.auto-merge-after versions unmerged merges them; a failure never fails the write; config --help lists the keys", async () => {
    const { dir, P } = await setup();
    const help = (await pondOk(["config", "--help"], P)).stdout;
    for (const k of ["maintain.auto (on)", "maintain.target-size (128MiB)", "maintain.max-input-files (1000)", "maintain.auto-merge-after (100)"])
      expect(help).toContain(k);
    expect((await pond(["config", "set", "maintain.auto", "maybe"], P)).code).toBe(2);
    await pondOk(["config", "set", "maintain.auto-merge-after", "4"], P);
    const write = async (i: number) => {
      const file = join(dir, `a${i}.csv`);
      writeFileSync(file, `timestamp,v\n2024-03-01T00:${String(i).padStart(2, "0")}:00Z,${i}\n`);
      return pondOk(["copy", `host+series+csv://${file}`, "/a.series"], P);
    };
    for (let i = 0; i < 4; i++) await write(i);
    const described = (await pondOk(["describe", "/a.series", "--format", "json"], P)).stdout;
    expect((await pondOk(["log"], P)).stdout).not.toContain("(automatic)");
    await write(4); // versions 1..4 unmerged besides the newest: merged after this write
    const log = (await pondOk(["log", "-n", "1"], P)).stdout;
    expect(log).toContain("pond maintain merge (automatic)");
    expect(log).toContain("merged /a.series versions 1..4");
    const after = JSON.parse((await pondOk(["describe", "/a.series", "--format", "json"], P)).stdout);
    expect(after.versions.slice(0, 4)).toEqual(JSON.parse(described).versions);
    expect((await pondOk(["cat", "/a.series", "--sql", "SELECT sum(v) AS s FROM source"], P)).stdout).toBe("s\n10\n");
    // A setting broken by hand: the write still succeeds, the merge is skipped with a warning.
    const cfg = join(P.pond, "control/config.json");
    writeFileSync(cfg, JSON.stringify({ "maintain.auto-merge-after": "2", "maintain.target-size": "bogus" }));
    await write(5);
    const r = await write(6);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("automatic maintenance failed");
    expect((await pondOk(["cat", "/a.series", "--sql", "SELECT count(*) AS n FROM source"], P)).stdout).toBe("n\n7\n");
    await pondOk(["config", "set", "maintain.auto", "off"], P);
    writeFileSync(cfg, JSON.stringify({ "maintain.auto": "off", "maintain.auto-merge-after": "2" }));
    const quiet = await write(7);
    expect(quiet.stderr).toBe("");
    expect((await pondOk(["log", "-n", "1"], P)).stdout).not.toContain("(automatic)");
  }, 240_000);
});
