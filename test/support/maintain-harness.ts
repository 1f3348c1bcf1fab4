// Issue 15's safety harness: ponds to maintain (from the fixtures, and from seeded random
// operations), what a user sees of each snapshot (through bin/pond, and every version's bytes
// through the library), and a differential runner that checks every unexpired snapshot answers
// identically before and after each maintenance command of a list. A new maintenance command
// (`maintain merge`) joins every check by adding one line to MAINTENANCE_OPS.
import { expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Pond, readExpiry } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { readDeltaTable } from "./delta-reader.ts";
import { FIXTURES, pondOk } from "./pond-cli.ts";
import { randomFrom } from "@pond/tinyfs/testing";

/** One maintenance command, as `pond ARGS`. */
export interface MaintenanceOp {
  name: string;
  args: string[];
}

/**
 * The maintenance commands every safety test runs, in this order (each on the pond the one
 * before left): a checkpoint with nothing expired, an expiry, a cleanup that then has work to
 * do, and `full` expiring further. A command added here joins the differential and dry-run tests.
 * A command that commits (merge) makes a snapshot that must answer like the one before it.
 */
export const MAINTENANCE_OPS: MaintenanceOp[] = [
  { name: "checkpoint", args: ["maintain", "checkpoint"] },
  { name: "merge", args: ["maintain", "merge"] },
  { name: "expire --keep-last 7", args: ["maintain", "expire", "--keep-last", "7"] },
  { name: "cleanup --retention 0s", args: ["maintain", "cleanup", "--retention", "0s"] },
  { name: "full --keep-last 2 --retention 0s", args: ["maintain", "full", "--keep-last", "2", "--retention", "0s"] },
];

export type P = { pond: string };

/** The project's seeded generator (tinyfs random.ts) as a function, so a failing run replays from its seed. */
export function rng(seed: number): () => number {
  const r = randomFrom(seed);
  return () => r.next();
}

/** The seed from $name (to replay), else a fresh one; printed either way. */
export function seedFrom(name: string, what: string): number {
  const seed = Number(process.env[name] ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`${what}: seed ${seed} (replay with ${name}=${seed})`);
  return seed;
}

const VEGA = join(FIXTURES, "timeseries/vega-datasets");

/**
 * A pond from the fixtures, one transaction at a time (17 snapshots): a large file removed
 * early and another kept, files renamed and removed, a table replaced by one of another
 * schema, a series of five equal one-row versions (what merge merges) and a sixth with a new
 * column, a table from a TSV. With MAINTENANCE_OPS every command has work here.
 */
export async function buildFixturePond(P: P, work: string): Promise<void> {
  const csv = (name: string, text: string) => {
    const f = join(work, name);
    writeFileSync(f, text);
    return f;
  };
  await pondOk(["mkdir", "/w"], P);
  await pondOk(["copy", `host://${join(VEGA, "seattle-weather-hourly-normals.csv")}`, "/gone.csv"], P);
  await pondOk(["copy", `host://${join(VEGA, "weather.csv")}`, "/big.csv"], P);
  await pondOk(["copy", `host://${join(VEGA, "co2-concentration.csv")}`, "/co2.csv"], P);
  await pondOk(["copy", `host://${join(VEGA, "global-temp.csv")}`, "/w/temp.csv"], P);
  await pondOk(["rm", "/gone.csv"], P);
  await pondOk(["mv", "/co2.csv", "/w/co2.csv"], P);
  await pondOk(["rm", "/w/temp.csv"], P);
  await pondOk(["copy", `host+csv://${join(VEGA, "seattle-weather.csv")}`, "/w/weather.table"], P);
  await pondOk(["copy", `host+csv://${join(VEGA, "iowa-electricity.csv")}`, "/w/weather.table"], P);
  for (let d = 1; d <= 5; d++) await pondOk(["copy", `host+series+csv://${csv(`s${d}.csv`, `timestamp,v\n2024-01-0${d}T00:00:00Z,${d}\n`)}`, "/w/s.series"], P);
  await pondOk(["copy", `host+series+csv://${csv("s6.csv", "timestamp,v,w\n2024-01-06T00:00:00Z,6,x\n2024-01-06T06:00:00Z,7,y\n")}`, "/w/s.series"], P);
  await pondOk(["copy", `host+csv://${join(VEGA, "unemployment.tsv")}`, "/w/jobs.table"], P);
}

/**
 * A pond from `ops` seeded random operations through bin/pond: data files copied (small
 * ones inline, large ones as payloads) and replaced, series appended to (sometimes with a
 * new column), tables created and replaced (sometimes with another schema), files renamed
 * and removed. Returns a log of what it did (for a failure message).
 */
export async function buildRandomPond(P: P, work: string, seed: number, ops: number): Promise<string[]> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const done: string[] = [];
  const files = new Map<string, "data" | "series" | "table">();
  const seriesCols = new Map<string, string[]>();
  let n = 0;
  let day = 0;
  const host = (ext: string, text: string) => {
    const f = join(work, `r${n++}.${ext}`);
    writeFileSync(f, text);
    return f;
  };
  await pondOk(["mkdir", "/r"], P);
  for (let i = 0; i < ops; i++) {
    const x = r();
    const existing = [...files.keys()];
    let args: string[];
    if (x < 0.25 || existing.length === 0) {
      // A data file, new or replacing one: a quarter are large (a payload in _large_files/).
      const target = r() < 0.4 && existing.some((p) => files.get(p) === "data") ? pick(existing.filter((p) => files.get(p) === "data")) : `/r/d${n}.bin`;
      const size = r() < 0.25 ? 70_000 + Math.floor(r() * 30_000) : 10 + Math.floor(r() * 500);
      let text = `${target} ${i}\n`;
      while (text.length < size) text += Math.floor(r() * 1e9).toString(36);
      args = ["copy", `host://${host("bin", text)}`, target];
      files.set(target, "data");
    } else if (x < 0.55) {
      // A series appended to, or a new one; a fifth of the appends bring a new column.
      const series = existing.filter((p) => files.get(p) === "series");
      const target = series.length && r() < 0.75 ? pick(series) : `/r/s${n}.series`;
      const cols = seriesCols.get(target) ?? ["v"];
      if (seriesCols.has(target) && r() < 0.2) cols.push(`c${n}`);
      seriesCols.set(target, cols);
      const rows = 1 + Math.floor(r() * 5);
      let text = `timestamp,${cols.join(",")}\n`;
      for (let k = 0; k < rows; k++) {
        const t = new Date(Date.UTC(2024, 0, 1) + day++ * 3_600_000).toISOString();
        text += `${t},${cols.map((c, j) => (j === 0 ? Math.floor(r() * 1000) : `${c}-${k}`)).join(",")}\n`;
      }
      args = ["copy", `host+series+csv://${host("csv", text)}`, target];
      files.set(target, "series");
    } else if (x < 0.75) {
      // A table created or replaced, half the time with another schema.
      const tables = existing.filter((p) => files.get(p) === "table");
      const target = tables.length && r() < 0.6 ? pick(tables) : `/r/t${n}.table`;
      const wide = r() < 0.5;
      let text = wide ? "id,name,score\n" : "id,value\n";
      const rows = 1 + Math.floor(r() * 20);
      for (let k = 0; k < rows; k++) text += wide ? `${k},n${Math.floor(r() * 100)},${(r() * 10).toFixed(3)}\n` : `${k},${Math.floor(r() * 1e6)}\n`;
      args = ["copy", `host+csv://${host("csv", text)}`, target];
      files.set(target, "table");
    } else if (x < 0.88) {
      const from = pick(existing);
      const to = `/r/m${n++}${from.slice(from.lastIndexOf("."))}`;
      args = ["mv", from, to];
      files.set(to, files.get(from)!);
      files.delete(from);
      if (seriesCols.has(from)) seriesCols.set(to, seriesCols.get(from)!);
      seriesCols.delete(from);
    } else {
      const p = pick(existing);
      args = ["rm", p];
      files.delete(p);
      seriesCols.delete(p);
    }
    done.push(args.join(" "));
    await pondOk(args, P);
  }
  return done;
}

/** The oldest unexpired snapshot and the newest, as `pond maintain snapshots` says. */
export async function unexpired(P: P): Promise<number[]> {
  const snaps = JSON.parse((await pondOk(["maintain", "snapshots", "--format", "json"], P)).stdout) as { seq: number; expired: boolean }[];
  return snaps.filter((s) => !s.expired).map((s) => s.seq);
}

interface Listed {
  path: string;
  type: string;
  version?: number;
}

/**
 * What a user sees of snapshot `seq` through bin/pond: `list -l` and one query over every
 * table and series (row count and a digest of the rows); `files` adds `describe` and `cat`
 * of every file as of it, `catVersions` `cat --version V` of every version of every file.
 */
export async function observe(P: P, seq: number, opts: { files?: boolean; catVersions?: boolean } = {}): Promise<Record<string, string>> {
  const at = ["--as-of", String(seq)];
  const out: Record<string, string> = {};
  const list = await pondOk(["list", "-l", "--format", "json", ...at], P);
  out.list = list.stdout;
  const entries = (JSON.parse(list.stdout) as Listed[]).filter((e) => e.type.startsWith("file:"));
  const tabular = entries.filter((e) => e.type === "file:table" || e.type === "file:series");
  if (tabular.length) {
    const sql = tabular
      .map((e) => `SELECT '${e.path}' AS f, count(*) AS n, md5(coalesce(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR), '')) AS h FROM '${e.path}' t`)
      .join(" UNION ALL ");
    out.query = (await pondOk(["query", `${sql} ORDER BY f`, "--format", "csv", ...at], P)).stdout;
  }
  if (!opts.files) return out;
  for (const e of entries) {
    const fmt = e.type === "file:data" ? [] : ["--format", "csv"];
    out[`describe ${e.path}`] = (await pondOk(["describe", e.path, "--format", "json", ...at], P)).stdout;
    out[`cat ${e.path}`] = hash((await pondOk(["cat", e.path, ...fmt, ...at], P)).stdoutBytes);
    if (opts.catVersions)
      for (let v = 1; v <= (e.version ?? 1); v++)
        out[`cat ${e.path} --version ${v}`] = hash((await pondOk(["cat", e.path, "--version", String(v), ...fmt, ...at], P)).stdoutBytes);
  }
  return out;
}

const hash = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/**
 * Every version of every file of snapshot `seq`, read through the library (path → version → sha256
 * of the bytes read). A fresh Pond unless `opened` is given (one opened after the last change:
 * no cache of an earlier read may hide a deleted file). `cache` (content sha256 and size → sha256
 * of the bytes read), shared by reads with no change between them, reads each content once.
 */
export async function readSnapshot(pondDir: string, seq: number, opened?: Pond, cache?: Map<string, string>): Promise<Map<string, string>> {
  const pond = opened ?? Pond.open(pondDir);
  const wd = new WD(await pond.view({ seq }));
  const out = new Map<string, string>();
  const walk = async (dir: string) => {
    for (const e of await wd.list(dir)) {
      if (e.entryType === "directory") {
        await walk(e.path);
        continue;
      }
      if (!e.entryType.startsWith("file:")) continue;
      for (const v of (await wd.stat(e.path)).versions ?? []) {
        const key = `${v.sha256}:${v.size}`;
        let h = cache?.get(key);
        if (h === undefined) {
          h = hash(await wd.readAll(e.path, { version: v.version }));
          cache?.set(key, h);
        }
        out.set(`${e.path} v${v.version}`, h);
      }
    }
  };
  await walk("/");
  return out;
}

/** The horizon as this copy of the pond records it (library). */
export const horizonOf = (pondDir: string) => readExpiry(join(pondDir, "control")).horizon;

/**
 * Runs `ops` one after another and checks after each that every unexpired snapshot answers
 * identically through the library (every version of every file), that the data folder is a
 * valid Delta table to an independent reader, and that fsck finds it whole; and through
 * bin/pond (a process per call, so a sample): `list -l` and the query at every fourth snapshot
 * counted back from the newest, `describe`
 * and `cat` of every file at the newest and two before it, `cat --version` of every version at
 * the newest. `cliSample: "newest"` observes only the newest through bin/pond.
 * Snapshots are observed once, before the first op. Returns what each op reported doing.
 */
export async function runDifferential(
  P: P,
  ops: readonly MaintenanceOp[],
  label: string,
  opts: { cliSample?: "newest" | "every-fourth" } = {},
): Promise<Record<string, { step: string; files: number; detail: string }[]>> {
  const did: Record<string, { step: string; files: number; detail: string }[]> = {};
  const seqs = await unexpired(P);
  const newest = seqs.at(-1)!;
  const sampled = (s: number) => s === newest || (opts.cliSample !== "newest" && (newest - s) % 4 === 0);
  const level = (s: number) => ({ files: s === newest || s === newest - 2, catVersions: s === newest });
  /** Snapshot `s` through bin/pond, sampled as snapshot `like` is. */
  const cli = async (s: number, like = s) => (sampled(like) ? await observe(P, s, level(like)) : {});
  const seen = new Map<number, { cli: Record<string, string>; lib: Map<string, string> }>();
  for (const s of seqs) seen.set(s, { cli: await cli(s), lib: await readSnapshot(P.pond, s) });
  const before = readDeltaTable(P.pond);
  expect((await before).version).toBe(newest);
  for (const op of ops) {
    const out = JSON.parse((await pondOk([...op.args, "--format", "json"], P)).stdout) as { steps: { step: string; files: number; detail: string }[] };
    did[op.name] = out.steps.map((x) => ({ step: x.step, files: x.files, detail: x.detail }));
    const now = await unexpired(P);
    // A snapshot a maintenance command committed (merge's) answers like the newest before it.
    const ref = (s: number) => Math.min(s, newest);
    for (const s of now) {
      const was = seen.get(ref(s))!;
      expect({ label, op: op.name, seq: s, cli: await cli(s, ref(s)) }).toEqual({ label, op: op.name, seq: s, cli: was.cli });
      expect({ label, op: op.name, seq: s, lib: [...(await readSnapshot(P.pond, s))] }).toEqual({ label, op: op.name, seq: s, lib: [...was.lib] });
    }
    const table = await readDeltaTable(P.pond);
    expect({ label, op: op.name, version: table.version }).toEqual({ label, op: op.name, version: now.at(-1)! });
    const fsck = await pondOk(["fsck"], P);
    expect(fsck.stdout).toContain("whole");
  }
  return did;
}
