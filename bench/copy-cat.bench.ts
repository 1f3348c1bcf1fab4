// Issue 3: `pond copy` of a 1 GiB file vs `cp` + `sha256sum` of it; `pond cat` of it to
// /dev/null vs `sha256sum`; peak RSS of both under 200 MiB.
// Run: node_modules/.bin/bun bench/copy-cat.bench.ts [sizeMiB]
import { mkdtempSync, rmSync, openSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POND_BIN, median, report, run } from "./lib.ts";

const sizeMiB = Number(process.argv[2] ?? 1024);
const dir = mkdtempSync(join(tmpdir(), "pond-bench-copy-"));
try {
  const src = join(dir, "big.bin");
  const fd = openSync(src, "w");
  const chunk = new Uint8Array(16 * 1024 * 1024);
  for (let i = 0; i < sizeMiB / 16; i++) { crypto.getRandomValues(chunk.subarray(0, 65536)); chunk.copyWithin(65536, 0, chunk.length - 65536); writeSync(fd, chunk); }
  closeSync(fd);
  const pondDir = join(dir, "pond");
  await run([POND_BIN, "init", "--pond", pondDir]);
  let n = 0;
  const base = await median(3, () => run([`cp ${src} ${join(dir, "copy.bin")} && sha256sum ${src} > /dev/null && rm ${join(dir, "copy.bin")}`], { shell: true }));
  const copy = await median(3, async () => {
    const r = await run([POND_BIN, "copy", `host://${src}`, `/big${n++}.bin`], { env: { POND: pondDir } });
    // Each copy is the same content: remove the stored payload so every run writes it.
    rmSync(join(pondDir, "data", "_large_files"), { recursive: true, force: true });
    return r;
  }, 0);
  await run([POND_BIN, "copy", `host://${src}`, "/final.bin"], { env: { POND: pondDir } });
  const shaOnly = await median(3, () => run(["sha256sum", src]));
  const cat = await median(3, () => run([POND_BIN, "cat", "/final.bin"], { env: { POND: pondDir }, stdout: "/dev/null" }));
  console.log(`file ${sizeMiB} MiB; cp+sha256sum ${base.ms.toFixed(0)} ms; pond copy ${copy.ms.toFixed(0)} ms; sha256sum ${shaOnly.ms.toFixed(0)} ms; pond cat ${cat.ms.toFixed(0)} ms`);
  report("pond copy / (cp + sha256sum)", copy.ms / base.ms, 1.5, "x");
  report("pond copy peak RSS", copy.maxRssMiB, 200, " MiB");
  report("pond cat / sha256sum", cat.ms / shaOnly.ms, 1.5, "x");
  report("pond cat peak RSS", cat.maxRssMiB, 200, " MiB");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
