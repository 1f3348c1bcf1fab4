// Issue 15, the year-long collector's control/ folder: a pond of `--versions` collector
// versions (one of 10 rows a minute into one series, automatic maintenance on; the first
// through the CLI, the rest through the library as collector.bench.ts's `grow`), read as a
// user would (describe, list -l, cat, query: what fills the derived caches), then
// `pond maintain full --keep-last 1 --retention 0s`, then the same reads. Prints control/'s
// files and sizes before and after, what cleanup reported for the caches, and whether every
// answer stayed the same.
// Run: node_modules/.bin/bun bench/control-size.bench.ts [--versions 3000]
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { isSeriesCacheFile } from "@pond/tlogfs";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { T0, appendVersion, versionFile } from "./collector-pond.ts";
import { POND_BIN, run } from "./lib.ts";

const { values } = parseArgs({ options: { versions: { type: "string", default: "3000" }, keep: { type: "boolean", default: false } } });
const total = Number(values.versions);
const root = mkdtempSync(join(tmpdir(), "pond-bench-control-"));
const duck = await openDuckDB();
const srcDir = join(root, "src");
mkdirSync(srcDir);

/** Each file under `dir` (relative) → size. */
function sizes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) out.set(join(e.parentPath, e.name).slice(dir.length + 1), statSync(join(e.parentPath, e.name)).size);
  return out;
}
const sum = (m: Map<string, number>, pred: (k: string) => boolean = () => true) => [...m].filter(([k]) => pred(k)).reduce((s, [, v]) => s + v, 0);

function show(what: string, control: Map<string, number>): void {
  const groups: [string, (k: string) => boolean][] = [
    ["transactions.jsonl", (k) => k === "transactions.jsonl"],
    ["transactions/*.jsonl.zst (archives)", (k) => k.startsWith("transactions/")],
    ["row-cache/*.json(l) (row cache)", (k) => k.startsWith("row-cache/") && !isSeriesCacheFile(k)],
    ["row-cache/*.series.json (summaries)", (k) => k.endsWith(".series.json")],
    ["row-cache/*.series-hashes.json (hash prefixes)", (k) => k.endsWith(".series-hashes.json")],
    ["dir-cache.json(l)", (k) => k.startsWith("dir-cache.json")],
    ["snapshot-cache.json", (k) => k === "snapshot-cache.json"],
    ["other", (k) => !/^(transactions\.jsonl|transactions\/|row-cache\/|dir-cache\.json|snapshot-cache\.json)/.test(k)],
  ];
  console.log(`${what}: control/ ${sum(control)} bytes in ${control.size} files`);
  for (const [name, pred] of groups) console.log(`  ${name}: ${sum(control, pred)} bytes, ${[...control.keys()].filter(pred).length} file(s)`);
  const other = groups.at(-1)![1];
  console.log(
    `    (other: ${[...control]
      .filter(([k]) => other(k))
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")})`,
  );
}

const pondDir = join(root, "p");
const env = { POND: pondDir };
/** `pond ARGS` on this pond: its stdout, or a thrown error with its stderr. */
function pond(...args: string[]): { stdout: string } {
  const r = Bun.spawnSync([POND_BIN, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`pond ${args.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}`);
  return { stdout: r.stdout.toString() };
}
/** `pond log --format json`'s transactions that were there at the first call (newest first: the tail). */
let logCount: number | undefined;
function logBefore(stdout: string): string {
  const all = JSON.parse(stdout) as unknown[];
  logCount ??= all.length;
  return JSON.stringify(all.slice(all.length - logCount));
}
/** What a user reads: the answers that must not change, and that fill the caches. */
async function answers(): Promise<string[]> {
  const out: string[] = [];
  for (const args of [
    ["describe", "/data/lake.series"],
    ["list", "-l", "/data"],
    ["cat", "/data/lake.series", "--format", "csv"],
    ["cat", "/data/lake.series", "--version", "7", "--format", "csv"],
    // v is DOUBLE (i + j / 10): its sum in another file order may differ in the last bit, so the exact integer sum of v * 10 is compared.
    ["query", "SELECT count(*), sum(round(v * 10))::BIGINT, min(timestamp), max(timestamp) FROM '/data/lake.series'", "--format", "csv"],
    [
      "query",
      "SELECT count(*), sum(round(v * 10))::BIGINT FROM '/data/lake.series'",
      "--format",
      "csv",
      "--time-start",
      new Date(T0 + (total - 1440) * 60_000).toISOString(),
    ],
    ["log", "--format", "json"],
  ]) {
    const r = pond(...args);
    // describe lists transactions and times that maintain does not change; merged versions' files do not show.
    // `pond log`: the history before maintenance, without the transactions maintenance adds after it.
    out.push(`${args.join(" ")}\n${args[0] === "log" ? logBefore(r.stdout) : r.stdout}`);
  }
  return out;
}

try {
  await run([POND_BIN, "init", "--pond", pondDir]);
  pond("copy", `host+series://${await versionFile(duck, srcDir, 0)}`, "/data/lake.series", "-p");
  const p = Pond.open(pondDir);
  const attrs = (await new WD(await p.view()).stat("/data/lake.series")).versions!.at(-1)!.attributes;
  const t = performance.now();
  for (let i = 1; i < total; i++) {
    const f = await versionFile(duck, srcDir, i);
    await appendVersion(p, i, f, attrs);
  }
  console.log(`built ${total} versions in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  const control = join(pondDir, "control");
  const before = await answers();
  const writesBefore = Pond.open(pondDir).history().length;
  const c0 = sizes(control);
  show("after the reads, before maintenance", c0);
  const dry = pond("maintain", "full", "--keep-last", "1", "--retention", "0s", "--dry-run", "--format", "json");
  const c1 = sizes(control);
  console.log(`dry run changed control/: ${JSON.stringify([...c1]) !== JSON.stringify([...c0])}`);
  const done = pond("maintain", "full", "--keep-last", "1", "--retention", "0s", "--format", "json");
  for (const [name, r] of [
    ["dry run", dry],
    ["full", done],
  ] as const) {
    const steps = JSON.parse(r.stdout) as
      | { steps?: { step: string; items: { key: string; size: number }[] }[] }
      | { step: string; items: { key: string; size: number }[] }[];
    const list = Array.isArray(steps) ? steps : (steps.steps ?? []);
    const cleanup = list.find((s) => s.step === "cleanup");
    const cache = cleanup?.items.filter((i) => i.key.startsWith("control/") && !i.key.startsWith("control/transactions/")) ?? [];
    const archived = cleanup?.items.filter((i) => i.key.startsWith("control/transactions/")) ?? [];
    console.log(
      `${name}: cleanup pruned ${cache.length} cache file(s), ${cache.reduce((s, i) => s + i.size, 0)} bytes; control log archives: ${archived.map((i) => `${i.key} ${i.size}`).join(", ") || "none"}`,
    );
  }
  const c2 = sizes(control);
  show("right after maintain full", c2);
  // The control log: bytes a write before and after cleanup archived it (the history is the
  // same: `pond log` of both is compared with the answers below).
  const history = (m: Map<string, number>) => sum(m, (k) => k === "transactions.jsonl" || k.startsWith("transactions/"));
  const writes = Pond.open(pondDir).history().length;
  const perWrite = [history(c0) / writesBefore, history(c2) / writes];
  console.log(
    `control log: ${history(c0)} bytes for ${writesBefore} writes before (${perWrite[0]!.toFixed(0)} a write), ${history(c2)} for ${writes} after (${perWrite[1]!.toFixed(0)} a write, ${(perWrite[0]! / perWrite[1]!).toFixed(1)}x smaller)`,
  );
  const after = await answers();
  show("after the same reads again", sizes(control));
  const differ = before.filter((a, i) => a !== after[i]);
  console.log(
    `answers identical after maintenance: ${differ.length === 0}${differ.length ? ` (differ: ${differ.map((d) => d.split("\n")[0]).join("; ")})` : ""}`,
  );
  console.log(`data/: ${sum(sizes(join(pondDir, "data")))} bytes`);
} finally {
  duck.close?.();
  if (!values.keep) rmSync(root, { recursive: true, force: true });
  else console.log(`kept ${root}`);
}
