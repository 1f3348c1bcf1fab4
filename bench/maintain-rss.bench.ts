// Issue 15: `pond maintain merge` and the whole of `pond maintain full --keep-last 1
// --retention 0s` stay under 512 MiB peak RSS for any series size. A collector pond (one
// series, a version of 10 rows a minute, automatic maintenance on, never expired or cleaned)
// is grown through the library to each size in --versions and copied there; on fresh copies
// the compiled binary runs `maintain merge`, `maintain expire --keep-last 1` then
// `maintain cleanup --retention 0s`, and `maintain full --keep-last 1 --retention 0s`, each
// with its peak RSS (GNU time's %M: Bun's resourceUsage().maxRSS of a child gave the same
// figure for every command of a run, the largest so far). The baseline, measured in the same run, is the
// same binary's `pond list /` on the same pond: the fixed cost of the process (Bun, DuckDB's
// code) that no maintenance code can remove. Printed per size: each peak, and its growth per
// 1,000 versions between the two largest sizes, with the linear estimate at 100,000 and
// 525,600 versions (a year of minutes).
// Run: node_modules/.bin/bun bench/maintain-rss.bench.ts [--versions 2000,5000,10000]
// (bun run build first; POND_BIN picks another binary). The defaults take ~5 min here.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { appendVersion, versionFile } from "./collector-pond.ts";
import { POND_BIN, report, run } from "./lib.ts";

/** Runs the binary with `args`, returning its peak RSS in MiB (GNU time) and wall time. */
async function peak(args: string[], env: Record<string, string>): Promise<{ maxRssMiB: number; ms: number }> {
  const out = join(root, "time.txt");
  const r = await run(["/usr/bin/time", "-f", "%M", "-o", out, POND_BIN, ...args], { env });
  return { maxRssMiB: Number(readFileSync(out, "utf8").trim().split("\n").at(-1)) / 1024, ms: r.ms };
}

const { values } = parseArgs({ options: { versions: { type: "string", default: "2000,5000,10000" } } });
const sizes = values.versions
  .split(",")
  .map(Number)
  .sort((a, b) => a - b);
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 2)) throw new Error(`--versions takes sizes of 2 or more, comma-separated, not "${values.versions}"`);
const TARGET_MIB = 512;
const root = mkdtempSync(join(tmpdir(), "pond-bench-maintain-rss-"));
const duck = await openDuckDB();
const srcDir = join(root, "src");
mkdirSync(srcDir);

type Peaks = { list: number; merge: number; expire: number; cleanup: number; full: number; fullMs: number };
const peaks = new Map<number, Peaks>();

/** Runs `args` on a fresh copy of `pond` (after `before`, unmeasured), returning the last command's run. */
async function onCopy(pond: string, before: string[][], args: string[]) {
  const copy = join(root, "copy");
  rmSync(copy, { recursive: true, force: true });
  cpSync(pond, copy, { recursive: true });
  const env = { POND: copy };
  for (const b of before) await run([POND_BIN, ...b], { env });
  const r = await peak(args, env);
  rmSync(copy, { recursive: true, force: true });
  return r;
}

try {
  const grow = join(root, "grow");
  await run([POND_BIN, "init", "--pond", grow]);
  await run([POND_BIN, "copy", `host+series://${await versionFile(duck, srcDir, 0)}`, "/data/lake.series", "-p"], { env: { POND: grow } });
  const pond = Pond.open(grow);
  const attrs = (await new WD(await pond.view()).stat("/data/lake.series")).versions!.at(-1)!.attributes;
  let have = 1;
  for (const n of sizes) {
    const t = performance.now();
    for (; have < n; have++) await appendVersion(pond, have, await versionFile(duck, srcDir, have), attrs);
    const at = join(root, `p${n}`);
    cpSync(grow, at, { recursive: true });
    console.log(`built ${n} versions (${((performance.now() - t) / 1000).toFixed(0)} s)`);
    const list = await onCopy(at, [], ["list", "/"]);
    const merge = await onCopy(at, [], ["maintain", "merge"]);
    const expire = await onCopy(at, [], ["maintain", "expire", "--keep-last", "1"]);
    const cleanup = await onCopy(at, [["maintain", "expire", "--keep-last", "1"]], ["maintain", "cleanup", "--retention", "0s"]);
    const full = await onCopy(at, [], ["maintain", "full", "--keep-last", "1", "--retention", "0s"]);
    rmSync(at, { recursive: true, force: true });
    const p: Peaks = {
      list: list.maxRssMiB,
      merge: merge.maxRssMiB,
      expire: expire.maxRssMiB,
      cleanup: cleanup.maxRssMiB,
      full: full.maxRssMiB,
      fullMs: full.ms,
    };
    peaks.set(n, p);
    console.log(
      `at ${n}: peak RSS MiB: list / ${p.list.toFixed(0)} (baseline), merge ${p.merge.toFixed(0)}, expire ${p.expire.toFixed(0)}, ` +
        `cleanup ${p.cleanup.toFixed(0)}, full ${p.full.toFixed(0)} (${(p.fullMs / 1000).toFixed(1)} s)`,
    );
  }
  const ok: boolean[] = [];
  const last = sizes[sizes.length - 1]!;
  for (const n of sizes) {
    const p = peaks.get(n)!;
    ok.push(report(`at ${n}: maintain full peak RSS`, p.full, TARGET_MIB, " MiB"));
    ok.push(report(`at ${n}: maintain merge peak RSS`, p.merge, TARGET_MIB, " MiB"));
  }
  if (sizes.length >= 2) {
    const prev = sizes[sizes.length - 2]!;
    const a = peaks.get(prev)!;
    const b = peaks.get(last)!;
    for (const k of ["merge", "expire", "cleanup", "full"] as const) {
      const perK = ((b[k] - a[k]) / (last - prev)) * 1000;
      const at = (n: number) => b[k] + (perK * (n - last)) / 1000;
      console.log(
        `${k}: ${perK.toFixed(1)} MiB per 1,000 versions (${prev}..${last}); over the baseline at ${last}: ${(b[k] - b.list).toFixed(0)} MiB; ` +
          `linear estimate ${at(100_000).toFixed(0)} MiB at 100,000 and ${at(525_600).toFixed(0)} MiB at 525,600`,
      );
    }
  }
  if (ok.includes(false)) process.exitCode = 1;
} finally {
  duck.close();
  rmSync(root, { recursive: true, force: true });
}
