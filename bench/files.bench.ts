// Issue 13: `pond rm -r` and `pond mv` of a directory holding 10,000 files, each at most 2×
// `pond mkdir` of one folder in the same pond, measured in the same run (interleaved medians).
// Neither may touch the payloads or each file's row: a move rewrites two directory entries, a
// remove one. After each timed remove the tree is brought back with `pond revert` (untimed).
// Run: node_modules/.bin/bun bench/files.bench.ts [--files 10000] [--rounds 7]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { interleaved, POND_BIN, report, run } from "./lib.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const FILES = arg("--files", 10_000);
const ROUNDS = arg("--rounds", 7);
const DIRS = 100;

const root = mkdtempSync(join(tmpdir(), "pond-bench-files-"));
try {
  const dir = join(root, "pond");
  const t0 = performance.now();
  const pond = await Pond.init(dir, ["bench", "init"]);
  await pond.write(["bench", "build"], async ({ txn }) => {
    const wd = new WD(txn);
    await wd.mkdir("/other");
    for (let d = 0; d < DIRS; d++) await wd.mkdir(`/tree/d${d}`, { parents: true });
    for (let i = 0; i < FILES; i++) await wd.createFile(`/tree/d${i % DIRS}/f${i}.txt`, "file:data", new TextEncoder().encode(`file ${i}\n`));
  });
  console.log(`built ${FILES} files in ${DIRS} folders in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const env = { POND: dir };
  const seqOf = async (): Promise<number> => {
    const p = Bun.spawn([POND_BIN, "log", "-n", "1", "--format", "json"], { env: { ...process.env, ...env }, stdout: "pipe" });
    return (JSON.parse(await new Response(p.stdout).text()) as { seq: number }[])[0]!.seq;
  };
  let moved = false;
  let n = 0;
  const r = await interleaved(ROUNDS, {
    mkdir: () => run([POND_BIN, "mkdir", `/m${n++}`], { env }),
    mv: async () => {
      const res = await run(moved ? [POND_BIN, "mv", "/other/tree", "/tree"] : [POND_BIN, "mv", "/tree", "/other/tree"], { env });
      moved = !moved;
      return res;
    },
    rm: async () => {
      const before = await seqOf();
      const res = await run([POND_BIN, "rm", "-r", moved ? "/other/tree" : "/tree"], { env });
      await run([POND_BIN, "revert", String(before)], { env });
      return res;
    },
  });
  console.log(
    `medians of ${ROUNDS}: mkdir ${r.mkdir.ms.toFixed(0)} ms, mv ${r.mv.ms.toFixed(0)} ms, rm -r ${r.rm.ms.toFixed(0)} ms (peak RSS mv ${r.mv.maxRssMiB.toFixed(0)} MiB, rm ${r.rm.maxRssMiB.toFixed(0)} MiB)`,
  );
  const a = report(`mv of a ${FILES}-file directory vs mkdir`, r.mv.ms / r.mkdir.ms, 2, "x");
  const b = report(`rm -r of a ${FILES}-file directory vs mkdir`, r.rm.ms / r.mkdir.ms, 2, "x");
  if (!(a && b)) process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
