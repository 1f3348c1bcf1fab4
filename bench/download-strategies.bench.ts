// Issue 18, restore ≥ 0.9× the raw download: what a verified download costs, by how the
// bytes are received, hashed and written, against the raw download of the same objects in
// the same run (bench/raw-download.ts's way: Bun's S3Client writing each body natively,
// no hash, no fsync). Each strategy runs as a process of its own (this file, `child`),
// pinned to core 1 with s3rver on core 0 (as `push-restore.bench.ts --cores=pinned`), or
// unpinned with `--shared`; the strategies run in turns, in an order that alternates.
// It prints, per strategy, the medians of wall time, the process's user and system CPU,
// and s3rver's CPU, per GiB, and each one's time as a ratio of the raw download's.
// The README (issue 18, restore) reports what it measured.
// Run: node_modules/.bin/bun bench/download-strategies.bench.ts [sizeMiB] [rounds] [strategy,…] [--shared]
// Strategies:
// - raw: the baseline above.
// - fetch: a presigned GET whose body `Bun.write` writes natively (what `pond restore` does).
// - readback: fetch, then the file read back in 1 MiB blocks and hashed, then fsynced, on
//   the main thread, which then downloads nothing: its CPU is restore's way (restore hashes
//   the same bytes behind the writer on idle-priority threads), its wall time is not.
// - stream: the body's chunks hashed in JavaScript and written (`writeSync`), then fsynced.
// - ranged: 8 MiB `Range` GETs, each read whole (`bytes()`), hashed and written, then fsynced.
// - hashonly: the body's chunks hashed in JavaScript, nothing written (the receive's cost).
import { S3Client } from "bun";
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startS3Server } from "../test/support/s3-server.ts";

const STRATEGIES = ["raw", "fetch", "readback", "stream", "ranged", "hashonly"] as const;
type Strategy = (typeof STRATEGIES)[number];
const CONCURRENCY = 8;
const FILE_MIB = 32;

if (process.argv[2] === "child") await child(process.argv.slice(3));
else await main();

/** One download of every key, the way `strategy` says; prints its CPU as JSON. */
async function child([strategy, endpoint, bucket, prefix, to, keysFile]: string[]): Promise<void> {
  const keys = readFileSync(keysFile!, "utf8").split("\n").filter(Boolean);
  const client = new S3Client({ endpoint, bucket, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", virtualHostedStyle: false });
  const url = (k: string) => client.presign(`${prefix}/${k}`, { method: "GET", expiresIn: 3600 });
  const digests: string[] = [];
  const one = async (k: string): Promise<void> => {
    const path = join(to!, k);
    mkdirSync(dirname(path), { recursive: true });
    const hasher = new Bun.CryptoHasher("sha256");
    switch (strategy as Strategy) {
      case "raw":
        await Bun.write(path, client.file(`${prefix}/${k}`));
        return;
      case "fetch":
        await Bun.write(path, await fetch(url(k)));
        return;
      case "readback": {
        await Bun.write(path, await fetch(url(k)));
        const fd = openSync(path, "r+");
        const buf = Buffer.allocUnsafe(1 << 20);
        for (let at = 0, n = 0; (n = readSync(fd, buf, 0, buf.length, at)) > 0; at += n) hasher.update(buf.subarray(0, n));
        fsyncSync(fd);
        closeSync(fd);
        break;
      }
      case "stream":
      case "hashonly": {
        const res = await fetch(url(k));
        const fd = strategy === "stream" ? openSync(path, "w") : -1;
        for await (const chunk of res.body!) {
          hasher.update(chunk);
          if (fd >= 0) writeSync(fd, chunk);
        }
        if (fd >= 0) {
          fsyncSync(fd);
          closeSync(fd);
        }
        break;
      }
      case "ranged": {
        const size = (await client.file(`${prefix}/${k}`).stat()).size;
        const fd = openSync(path, "w");
        const step = 8 << 20;
        for (let at = 0; at < size; at += step) {
          const res = await fetch(url(k), { headers: { Range: `bytes=${at}-${Math.min(size, at + step) - 1}` } });
          const b = await res.bytes();
          hasher.update(b);
          writeSync(fd, b);
        }
        fsyncSync(fd);
        closeSync(fd);
        break;
      }
      default:
        throw new Error(`unknown strategy ${strategy}: use ${STRATEGIES.join(", ")}`);
    }
    digests.push(hasher.digest("hex") as string);
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < keys.length) await one(keys[next++]!);
    }),
  );
  const ru = process.resourceUsage();
  console.log(JSON.stringify({ userMs: ru.userCPUTime / 1000, systemMs: ru.systemCPUTime / 1000, hashed: digests.length }));
}

async function main(): Promise<void> {
  const positional = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const sizeMiB = Number(positional[0] ?? 1024);
  const rounds = Number(positional[1] ?? 3);
  const strategies = (positional[2]?.split(",") ?? [...STRATEGIES]) as Strategy[];
  for (const s of strategies) if (!STRATEGIES.includes(s)) throw new Error(`unknown strategy ${s}: use ${STRATEGIES.join(", ")}`);
  if (!strategies.includes("raw")) strategies.unshift("raw");
  const pinned = !process.argv.includes("--shared");
  if (pinned && Bun.spawnSync(["taskset", "-V"]).exitCode !== 0) throw new Error("pinning needs taskset (util-linux); or pass --shared");

  const dir = mkdtempSync(join(tmpdir(), "pond-bench-strategies-"));
  const s3 = await startS3Server({ bucket: "bench" });
  try {
    const client = new S3Client({ endpoint: s3.endpoint, bucket: "bench", accessKeyId: "S3RVER", secretAccessKey: "S3RVER", virtualHostedStyle: false });
    // Incompressible objects of FILE_MIB, as push-restore.bench.ts makes its pond's files.
    const nFiles = Math.max(1, Math.round(sizeMiB / FILE_MIB));
    const body = new Uint8Array(FILE_MIB << 20);
    const keys: string[] = [];
    for (let i = 0; i < nFiles; i++) {
      crypto.getRandomValues(body.subarray(0, 65536));
      for (let at = 65536; at < body.length; at += 65536) {
        body.copyWithin(at, 0, 65536);
        body[at] = (body[at]! ^ (i + (at >> 16))) & 255;
      }
      keys.push(`d${i % 4}/f${i}.bin`);
      await client.write(`objects/${keys[i]}`, body);
    }
    const keysFile = join(dir, "keys.txt");
    writeFileSync(keysFile, keys.join("\n") + "\n");
    const gib = (nFiles * FILE_MIB) / 1024;
    const all = `0-${Math.max(1, navigator.hardwareConcurrency) - 1}`;
    if (Bun.spawnSync(["taskset", "-a", "-p", "-c", pinned ? "0" : all, String(s3.pid)]).exitCode !== 0) throw new Error("taskset of s3rver failed");
    const serverCpuMs = () => {
      const stat = readFileSync(`/proc/${s3.pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(f[11]) + Number(f[12])) * 10;
    };
    const to = join(dir, "to");
    interface One {
      ms: number;
      userMs: number;
      systemMs: number;
      serverMs: number;
    }
    const once = (s: Strategy): One => {
      rmSync(to, { recursive: true, force: true });
      Bun.spawnSync(["sync"]); // no dirty pages left by the one before
      const s0 = serverCpuMs();
      const t0 = performance.now();
      const p = Bun.spawnSync([
        ...(pinned ? ["taskset", "-c", "1"] : []),
        process.execPath,
        import.meta.path,
        "child",
        s,
        s3.endpoint,
        "bench",
        "objects",
        to,
        keysFile,
      ]);
      const ms = performance.now() - t0;
      if (p.exitCode !== 0) throw new Error(`${s} failed: ${p.stderr.toString()}`);
      const r = JSON.parse(p.stdout.toString()) as { userMs: number; systemMs: number };
      return { ms, userMs: r.userMs, systemMs: r.systemMs, serverMs: serverCpuMs() - s0 };
    };
    once("raw"); // the first download after the uploads runs slower (push-restore.bench.ts)
    const runs = Object.fromEntries(strategies.map((s) => [s, [] as One[]])) as Record<Strategy, One[]>;
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 === 0 ? strategies : strategies.toReversed()) runs[s].push(once(s));
    }
    const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rawMs = med(runs.raw.map((x) => x.ms));
    const perGiB = (ms: number) => (ms / 1000 / gib).toFixed(2);
    console.log(
      `${nFiles} objects of ${FILE_MIB} MiB, ${CONCURRENCY} at once, ${pinned ? "s3rver on core 0, each download on core 1" : "unpinned"}; medians of ${rounds}; load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    for (const s of strategies) {
      const xs = runs[s];
      const ms = med(xs.map((x) => x.ms));
      console.log(
        `${s.padEnd(9)} ${ms.toFixed(0).padStart(6)} ms (${(rawMs / ms).toFixed(2)}x the raw download's throughput); CPU a GiB: user ${perGiB(med(xs.map((x) => x.userMs)))} s, system ${perGiB(med(xs.map((x) => x.systemMs)))} s; s3rver ${perGiB(med(xs.map((x) => x.serverMs)))} s`,
      );
    }
  } finally {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
