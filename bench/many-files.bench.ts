// Issue 3: a pond of 10,000 files in 100 directories written by 1,000 transactions:
// `pond list '/**'` under 1 s, `pond cat` of one small file under 150 ms, and opening
// cost flat in the number of transactions (the same 10,000 files written by 100
// transactions, measured in the same run, is the baseline). Also `pond --version`.
// Issue 18: the same 10,000 files in 1,000 directories after 1,000 transactions:
// `pond list '/**'` under 150 ms (the first list after the writes reads each changed
// directory's entry file once, and is printed apart; later ones use the directory cache).
// Run: node_modules/.bin/bun bench/many-files.bench.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { POND_BIN, median, report, run } from "./lib.ts";

const FILES = 10_000;

/** The directory file `n` lands in when written by `txns` transactions into `dirs` directories. */
function dirOf(n: number, txns: number, dirs = 100): string {
  const d = txns >= dirs ? Math.floor(n / (FILES / txns)) % dirs : n % dirs;
  return `/d${String(d).padStart(4, "0")}`;
}

/**
 * Writes FILES small files into `dirs` directories using `txns` transactions, in a child
 * process: Linux keeps a process's peak RSS across exec, so a child spawned by a bench
 * that had built ponds in its own heap reported that heap as its own peak (209 MiB for a
 * list that peaks at ~80).
 */
async function build(dir: string, txns: number, dirs = 100): Promise<void> {
  const p = Bun.spawn([process.execPath, import.meta.path, "--build", dir, String(txns), String(dirs)], { stdout: "inherit", stderr: "inherit" });
  if ((await p.exited) !== 0) throw new Error(`building ${dir} failed`);
}

async function buildHere(dir: string, txns: number, dirs: number): Promise<void> {
  const pond = await Pond.init(dir, ["bench"]);
  await pond.write(["bench", "mkdir"], async ({ txn }) => {
    const wd = new WD(txn);
    for (let d = 0; d < dirs; d++) await wd.mkdir(`/d${String(d).padStart(4, "0")}`);
  });
  const perTxn = FILES / txns;
  for (let t = 0; t < txns; t++) {
    await pond.write(["bench", "copy", String(t)], async ({ txn }) => {
      const wd = new WD(txn);
      for (let i = 0; i < perTxn; i++) {
        const n = t * perTxn + i;
        await wd.createFile(`${dirOf(n, txns, dirs)}/f${n}.txt`, "file:data", new TextEncoder().encode(`file ${n}\n`));
      }
    });
  }
}

if (process.argv[2] === "--build") {
  await buildHere(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
  process.exit(0);
}
const root = mkdtempSync(join(tmpdir(), "pond-bench-many-"));
try {
  const results: Record<number, { list: number; cat: number }> = {};
  for (const txns of [100, 1000]) {
    const dir = join(root, `p${txns}`);
    const t0 = performance.now();
    await build(dir, txns);
    console.log(`built ${FILES} files by ${txns} transactions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const env = { POND: dir };
    const list = await median(5, () => run([POND_BIN, "list", "/**"], { env }));
    const cat = await median(5, () => run([POND_BIN, "cat", `${dirOf(4242, txns)}/f4242.txt`], { env }));
    results[txns] = { list: list.ms, cat: cat.ms };
    console.log(
      `${txns} transactions: list '/**' ${list.ms.toFixed(0)} ms (CPU ${list.cpuMs.toFixed(0)} ms; peak ${list.maxRssMiB.toFixed(0)} MiB), cat ${cat.ms.toFixed(0)} ms`,
    );
  }
  {
    const dir = join(root, "p1000x1000");
    const t0 = performance.now();
    await build(dir, 1000, 1000);
    console.log(`built ${FILES} files in 1,000 directories by 1,000 transactions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const env = { POND: dir };
    const first = await run([POND_BIN, "list", "/**"], { env });
    const rootOnly = await median(5, () => run([POND_BIN, "list", "/"], { env }));
    const list = await median(5, () => run([POND_BIN, "list", "/**"], { env }));
    console.log(
      `1,000 directories: list '/**' ${list.ms.toFixed(0)} ms (CPU ${list.cpuMs.toFixed(0)} ms; peak ${list.maxRssMiB.toFixed(0)} MiB; the first after the writes ${first.ms.toFixed(0)} ms), list '/' ${rootOnly.ms.toFixed(0)} ms (CPU ${rootOnly.cpuMs.toFixed(0)} ms)`,
    );
    results[-1] = { list: list.ms, cat: NaN };
  }
  const version = await median(10, () => run([POND_BIN, "--version"]));
  const trueRun = await median(10, () => run(["true"]));
  report("list '/**' at 1,000 transactions", results[1000]!.list, 1000, " ms");
  report("list '/**' of 10,000 files in 1,000 directories at 1,000 transactions", results[-1]!.list, 150, " ms");
  report("cat of a small file at 1,000 transactions", results[1000]!.cat, 150, " ms");
  report("list time at 1,000 / at 100 transactions", results[1000]!.list / results[100]!.list, 1.5, "x");
  report("cat time at 1,000 / at 100 transactions", results[1000]!.cat / results[100]!.cat, 1.5, "x");
  report(`pond --version (spawning \`true\` takes ${trueRun.ms.toFixed(1)} ms)`, version.ms, 50, " ms");
} finally {
  rmSync(root, { recursive: true, force: true });
}
