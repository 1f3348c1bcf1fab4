// Issue 15, the cost of one more library append as a collector's series grows: version i
// of 10 rows a minute appended through steward's Pond.write (automatic maintenance on),
// as collector.bench.ts's bulk path. Prints, at each `--at` mark, the mean ms an append
// over the `--window` appends before it, and the series folder's entry file count, so
// two builds run side by side (one per tree, same moment, same load) can be compared. Each
// append is also sorted by what its write did: an automatic merge followed it (the log
// grew by two commits), its commit compacted entry files (the snapshot lost files), or
// neither; the mean of each kind over the window shows which part grows with the series.
// Run: node_modules/.bin/bun bench/append-growth.bench.ts [--versions 20000] [--at 1000,5000,10000,20000] [--window 1000] [--label L]
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { appendVersion, versionFile } from "./collector-pond.ts";
import { POND_BIN, run } from "./lib.ts";

const { values } = parseArgs({
  options: {
    versions: { type: "string", default: "20000" },
    at: { type: "string", default: "1000,5000,10000,20000" },
    window: { type: "string", default: "1000" },
    label: { type: "string", default: "" },
  },
});
const total = Number(values.versions);
const marks = new Set(values.at.split(",").map(Number));
const window = Number(values.window);
const root = mkdtempSync(join(tmpdir(), "pond-bench-growth-"));
const duck = await openDuckDB();
const srcDir = join(root, "src");
mkdirSync(srcDir);
const pondDir = join(root, "p");
try {
  await run([POND_BIN, "init", "--pond", pondDir]);
  await run([POND_BIN, "copy", `host+series://${await versionFile(duck, srcDir, 0)}`, "/data/lake.series", "-p"], { env: { POND: pondDir } });
  const pond = Pond.open(pondDir);
  const view = await pond.view();
  const attrs = (await new WD(view).stat("/data/lake.series")).versions!.at(-1)!.attributes;
  const times: number[] = [];
  const kinds: ("merge" | "compaction" | "other")[] = [];
  const t0 = performance.now();
  let before = await pond.view();
  for (let i = 1; i < total; i++) {
    const f = await versionFile(duck, srcDir, i);
    const t = performance.now();
    await appendVersion(pond, i, f, attrs);
    times.push(performance.now() - t);
    const after = await pond.view();
    kinds.push(after.seq - before.seq > 1 ? "merge" : after.snapshot.files.length <= before.snapshot.files.length ? "compaction" : "other");
    before = after;
    const n = i + 1;
    if (marks.has(n)) {
      const w = times.slice(-window);
      const k = kinds.slice(-window);
      const byKind = (["merge", "compaction", "other"] as const).map((kind) => {
        const xs = w.filter((_, j) => k[j] === kind);
        return `${kind} ${xs.length} × ${xs.length ? (xs.reduce((s, x) => s + x, 0) / xs.length).toFixed(1) : "-"} ms`;
      });
      const sorted = [...w].sort((a, b) => a - b);
      const v = await pond.view();
      const dataId = (await new WD(v).stat("/data")).nodeId;
      const files = v.index.files(dataId).length;
      console.log(
        `${values.label} at ${n}: ${(w.reduce((s, x) => s + x, 0) / w.length).toFixed(1)} ms an append over the last ${w.length} (median ${sorted[Math.floor(w.length / 2)]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(0)}), /data entry files ${files}; ${byKind.join(", ")}; ${((performance.now() - t0) / 1000).toFixed(0)} s in all`,
      );
    }
  }
} finally {
  duck.close?.();
  rmSync(root, { recursive: true, force: true });
}
