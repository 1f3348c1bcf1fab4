// Issue 15: `--dry-run` of every maintenance command changes no byte of the pond folder, with
// work pending for each of them (snapshots to expire, a checkpoint to write, expired payloads,
// entry files and log files, a crash's orphan payload and staging file to delete, a control log
// to archive), and reports
// exactly the files the same command then deletes or writes for real.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAINTENANCE_OPS } from "./support/maintain-harness.ts";
import { FIXTURES, pond, pondOk, tempDir } from "./support/pond-cli.ts";

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir("pond-maintain-dry-");
});
afterAll(() => tmp?.cleanup());

/** path → sha256:size of every file under `dir`, and every folder (an empty one made or removed counts too). */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = join(e.parentPath, e.name);
    const st = statSync(full);
    out[full.slice(dir.length)] = e.isFile() ? `${new Bun.CryptoHasher("sha256").update(readFileSync(full)).digest("hex")}:${st.size}:${st.mtimeMs}` : "dir";
  }
  return out;
}

interface Step {
  step: string;
  dryRun: boolean;
  files: number;
  bytes: number;
  items: { key: string; size: number }[];
}

const VEGA = join(FIXTURES, "timeseries/vega-datasets");
const DAY = 86_400_000;

/** A pond with work pending for every maintenance command. */
async function pendingPond(): Promise<{ pond: string }> {
  const P = { pond: join(tmp.dir, "pond") };
  await pondOk(["init"], P);
  await pondOk(["copy", `host+csv://${join(VEGA, "seattle-weather.csv")}`, "/t.table"], P);
  await pondOk(["copy", `host+csv://${join(VEGA, "iowa-electricity.csv")}`, "/t.table"], P);
  await pondOk(["copy", `host://${join(VEGA, "seattle-weather-hourly-normals.csv")}`, "/big.csv"], P);
  await pondOk(["copy", `host://${join(VEGA, "weather.csv")}`, "/big.csv"], P);
  await pondOk(["rm", "/big.csv"], P);
  for (let i = 0; i < 4; i++) await pondOk(["copy", `host://${join(VEGA, "global-temp.csv")}`, `/g${i}.csv`], P);
  // The control log over its threshold: cleanup archives it.
  await pondOk(["config", "set", "maintain.control-archive-after", "1KiB"], P);
  // Half the history expired, no checkpoint yet.
  await pondOk(["maintain", "expire", "--keep-last", "5"], P);
  // What a crash leaves, long ago: a payload no commit names, a staging file.
  const old = (Date.now() - 30 * DAY) / 1000;
  const orphan = join(P.pond, "data/_large_files", `sha256=${"c".repeat(64)}`);
  const staging = join(P.pond, "data/_large_files", `.tmp-csv-${crypto.randomUUID()}`);
  writeFileSync(orphan, "orphan payload");
  writeFileSync(staging, "half-staged");
  for (const f of [orphan, staging]) utimesSync(f, old, old);
  return P;
}

describe("--dry-run changes no byte of the pond folder", () => {
  test("every maintenance command with work pending, and the dry run names what the real run then does", async () => {
    const P = await pendingPond();
    const before = hashTree(P.pond);
    const cmds: string[][] = [
      ...MAINTENANCE_OPS.map((o) => o.args),
      ["maintain", "expire", "--older-than", "0s"],
      ["maintain", "cleanup", "--retention", "0s"],
      ["maintain", "cleanup"], // the default retention (7d): only the month-old orphans
      ["maintain", "full", "--keep-last", "1", "--retention", "0s"],
    ];
    const dry = new Map<string, Step[]>();
    for (const args of cmds) {
      const r = await pondOk([...args, "--dry-run", "--format", "json"], P);
      const out = JSON.parse(r.stdout) as { dryRun: boolean; steps: Step[] };
      expect(out.dryRun).toBe(true);
      for (const s of out.steps) {
        expect(s.dryRun).toBe(true);
        expect(s.files).toBe(s.items.length);
      }
      dry.set(args.join(" "), out.steps);
      // Text output of a dry run says so.
      expect((await pondOk([...args, "--dry-run"], P)).stdout).toContain("(dry run)");
      expect({ after: args.join(" "), tree: hashTree(P.pond) }).toEqual({ after: args.join(" "), tree: before });
    }
    // Read-only commands leave it alone too.
    for (const args of [["maintain", "snapshots", "--format", "json"], ["fsck"], ["fsck", "--quick"], ["config"]]) {
      await pondOk(args, P);
      expect({ after: args.join(" "), tree: hashTree(P.pond) }).toEqual({ after: args.join(" "), tree: before });
    }
    // Each dry run had real work to report, and the same command run for real (on a copy of the
    // same pond) does exactly that: the same steps, files and bytes.
    const cleanup0 = dry.get("maintain cleanup --retention 0s")!;
    // The removed file's two payloads (its versions), the crash's orphan payload and staging file.
    const sha = (f: string) => new Bun.CryptoHasher("sha256").update(readFileSync(join(VEGA, f))).digest("hex");
    // And the control log's lines, archived.
    const archive = /^control\/transactions\/0{20}-\d{20}\.jsonl\.zst$/;
    for (const c of ["maintain cleanup --retention 0s", "maintain cleanup"])
      expect(
        dry
          .get(c)![0]!
          .items.filter((i) => i.key.startsWith("control/"))
          .map((i) => i.key),
      ).toEqual([expect.stringMatching(archive)]);
    expect(
      cleanup0[0]!.items
        .map((i) => i.key)
        .filter((k) => !archive.test(k))
        .sort(),
    ).toEqual(
      [
        `_large_files/sha256=${sha("seattle-weather-hourly-normals.csv")}`,
        `_large_files/sha256=${sha("weather.csv")}`,
        `_large_files/sha256=${"c".repeat(64)}`,
        expect.stringMatching(/^_large_files\/\.tmp-csv-/),
      ].sort(),
    );
    expect(
      dry
        .get("maintain cleanup")![0]!
        .items.map((i) => i.key)
        .filter((k) => !archive.test(k))
        .sort(),
    ).toEqual([`_large_files/sha256=${"c".repeat(64)}`, expect.stringMatching(/^_large_files\/\.tmp-csv-/)].sort());
    expect(dry.get("maintain checkpoint")![0]!.files).toBe(1);
    let n = 0;
    for (const args of cmds) {
      const copy = { pond: join(tmp.dir, `copy-${n++}`) };
      cpSync(P.pond, copy.pond, { recursive: true, preserveTimestamps: true });
      const real = JSON.parse((await pondOk([...args, "--format", "json"], copy)).stdout) as { dryRun: boolean; steps: Step[] };
      expect(real.dryRun).toBe(false);
      const shape = (steps: Step[]) => steps.map((s) => ({ step: s.step, files: s.files, keys: s.items.map((i) => i.key).sort() }));
      expect({ cmd: args.join(" "), steps: shape(dry.get(args.join(" "))!) }).toEqual({ cmd: args.join(" "), steps: shape(real.steps) });
      // Bytes too, except a checkpoint's, which exist only once it is written.
      const bytes = (steps: Step[]) => steps.filter((s) => s.step !== "checkpoint").map((s) => s.bytes);
      expect({ cmd: args.join(" "), bytes: bytes(dry.get(args.join(" "))!) }).toEqual({ cmd: args.join(" "), bytes: bytes(real.steps) });
      expect((await pond(["fsck"], copy)).code).toBe(0);
    }
  }, 180_000);
});
