// `pond copy` and `pond cat` of a large file against the fastest standard tools for the
// same work, measured in the same run, interleaved:
//   - new content, durable: `cp` + `sync` + `openssl dgst -sha256` one after the other
//     (target ≤ 1.2×), and the slower of `cp` + `sync` and `openssl dgst` alone (≤ 1.5×:
//     hashing while copying reads once and writes once);
//   - content the pond already has: `openssl dgst -sha256` alone (≤ 1.2×);
//   - `pond cat` to /dev/null, verification included: `openssl dgst -sha256` (≤ 1.1×);
//   - peak RSS of copy and cat under 64 MiB.
// openssl uses the CPU's SHA extensions; coreutils' sha256sum here does not (it hashed
// 256 MiB in 1.69 s where openssl took 0.35 s), so it would flatter pond.
// Run: node_modules/.bin/bun bench/copy-cat.bench.ts [sizeMiB] [rounds]
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POND_BIN, interleaved, report, run } from "./lib.ts";

const sizeMiB = Number(process.argv[2] ?? 1024);
const rounds = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), "pond-bench-copy-"));
try {
  const src = join(dir, "big.bin");
  const fd = openSync(src, "w");
  const chunk = new Uint8Array(16 * 1024 * 1024);
  for (let i = 0; i < sizeMiB / 16; i++) {
    crypto.getRandomValues(chunk.subarray(0, 65536));
    chunk.copyWithin(65536, 0, chunk.length - 65536);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  const pondDir = join(dir, "pond");
  const env = { POND: pondDir };
  await run([POND_BIN, "init", "--pond", pondDir]);
  await run([POND_BIN, "copy", `host://${src}`, "/final.bin"], { env });
  const copyOut = join(dir, "copy.bin");
  let n = 0;
  const m = await interleaved(
    rounds,
    {
      cpSyncSha: () => run([`cp ${src} ${copyOut} && sync && openssl dgst -sha256 ${src} > /dev/null && rm ${copyOut}`], { shell: true }),
      cpSync: () => run([`cp ${src} ${copyOut} && sync && rm ${copyOut}`], { shell: true }),
      sha: () => run(["openssl", "dgst", "-sha256", src]),
      pondCopyNew: async () => {
        // The same content each time: remove the payload first so every run stores it anew.
        rmSync(join(pondDir, "data", "_large_files"), { recursive: true, force: true });
        await run([POND_BIN, "copy", `host://${src}`, "/final.bin"], { env }); // untimed: puts the payload back for cat
        rmSync(join(pondDir, "data", "_large_files"), { recursive: true, force: true });
        return run([POND_BIN, "copy", `host://${src}`, `/new${n++}.bin`], { env });
      },
      pondCopyKnown: () => run([POND_BIN, "copy", `host://${src}`, `/known${n++}.bin`], { env }),
      pondCat: () => run([POND_BIN, "cat", "/final.bin"], { env, stdout: "/dev/null" }),
    },
    { before: () => Bun.spawnSync(["sync"]) },
  );
  const slower = Math.max(m.cpSync.ms, m.sha.ms);
  console.log(
    `file ${sizeMiB} MiB, ${rounds} interleaved rounds (medians): cp+sync+openssl ${m.cpSyncSha.ms.toFixed(0)} ms, cp+sync ${m.cpSync.ms.toFixed(0)} ms, openssl dgst ${m.sha.ms.toFixed(0)} ms; pond copy new ${m.pondCopyNew.ms.toFixed(0)} ms, known ${m.pondCopyKnown.ms.toFixed(0)} ms, pond cat ${m.pondCat.ms.toFixed(0)} ms`,
  );
  report("pond copy (new) / (cp + sync + openssl dgst)", m.pondCopyNew.ms / m.cpSyncSha.ms, 1.2, "x");
  report("pond copy (new) / slower of (cp + sync) and openssl dgst", m.pondCopyNew.ms / slower, 1.5, "x");
  report("pond copy (known content) / openssl dgst", m.pondCopyKnown.ms / m.sha.ms, 1.2, "x");
  report("pond cat / openssl dgst", m.pondCat.ms / m.sha.ms, 1.1, "x");
  report("pond copy peak RSS", Math.max(m.pondCopyNew.maxRssMiB, m.pondCopyKnown.maxRssMiB), 64, " MiB");
  report("pond cat peak RSS", m.pondCat.maxRssMiB, 64, " MiB");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
