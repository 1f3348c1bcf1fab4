// Issue 5 (targets raised by issue 18: restore ≥ 0.9× the raw download, push peak RSS
// under 128 MiB): `pond push` of a 1 GiB pond and `pond restore` of it, against a raw upload
// and a raw download of the same objects with the same S3 client (Bun's S3Client,
// same concurrency), measured in the same run against the same s3rver on 127.0.0.1;
// and the bytes an incremental push sends after one small change.
// Each run creates a new remote prefix (push needs an empty one), so s3rver's disk holds
// one copy of the pond per run. Restore hashes and fsyncs every file (verified, durable);
// the raw download does neither. The raw download runs as a process of its own
// (bench/raw-download.ts), started the way `pond restore` is.
// Run: node_modules/.bin/bun bench/push-restore.bench.ts [sizeMiB] [runs] [restore] [--cores=both|pinned|shared]
// With `restore`, the pond is pushed once and only the downloads are measured, in `runs`
// interleaved rounds, in two configurations (`--cores` picks one):
// - pinned (the target line): s3rver on core 0, and each measured command (raw download
//   and pond restore alike) on core 1 (`taskset`). A real S3 is another machine: its CPU
//   is not the client's. This models a client with ONE core against a server that
//   serves from a core of its own; it does not model network latency or bandwidth.
// - shared: no pinning; on a 2-core machine s3rver (~1.6 s of CPU per GiB served) and the
//   client share both cores, so every CPU cycle the client spends per byte (hashing to
//   verify) is taken from the server that feeds it.
import { S3Client } from "bun";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startS3Server } from "../test/support/s3-server.ts";
import { POND_BIN, report, run, type Run } from "./lib.ts";

const positional = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const sizeMiB = Number(positional[0] ?? 1024);
const runs = Number(positional[1] ?? 3);
const restoreOnly = positional[2] === "restore";
const coresArg = process.argv.find((a) => a.startsWith("--cores="))?.slice("--cores=".length) ?? "both";
if (!["both", "pinned", "shared"].includes(coresArg)) throw new Error(`--cores=${coresArg}: use both, pinned or shared`);
type Cores = "pinned" | "shared";
const configs: Cores[] = coresArg === "both" ? ["pinned", "shared"] : [coresArg as Cores];
if (configs.includes("pinned") && Bun.spawnSync(["taskset", "-V"]).exitCode !== 0) throw new Error("--cores=pinned needs taskset (util-linux)");
/** Objects in flight at once: what push and restore use (steward's default). */
const CONCURRENCY = 8;
const FILE_MIB = 32;

const dir = mkdtempSync(join(tmpdir(), "pond-bench-push-"));
const s3 = await startS3Server({ bucket: "bench" });
try {
  const env = { ...s3.env, POND: join(dir, "pond") };
  const pondDir = join(dir, "pond");
  await run([POND_BIN, "init", "--pond", pondDir]);

  // The pond: sizeMiB of incompressible files in 32 MiB pieces, 8 per transaction, plus a few small files.
  const src = join(dir, "src");
  mkdirSync(src);
  const nFiles = Math.max(1, Math.round(sizeMiB / FILE_MIB));
  const chunk = new Uint8Array(FILE_MIB * 1024 * 1024);
  for (let i = 0; i < nFiles; i++) {
    crypto.getRandomValues(chunk.subarray(0, 65536));
    for (let at = 65536; at < chunk.length; at += 65536)
      chunk.set(
        chunk.subarray(0, 65536).map((b, j) => b ^ ((at >> 16) + j)),
        at,
      );
    writeFileSync(join(src, `f${i}.bin`), chunk);
  }
  for (let i = 0; i < 8; i++) writeFileSync(join(src, `note${i}.txt`), `note ${i}\n`);
  const names = [...Array(nFiles).keys()].map((i) => `f${i}.bin`);
  for (let i = 0; i < names.length; i += 8) {
    await run([POND_BIN, "copy", ...names.slice(i, i + 8).map((n) => `host://${join(src, n)}`), "/"], { env });
  }
  await run([POND_BIN, "copy", ...[...Array(8).keys()].map((i) => `host://${join(src, `note${i}.txt`)}`), "/"], { env });
  rmSync(src, { recursive: true });

  const data = join(pondDir, "data");
  const objects = [...new Bun.Glob("**/*").scanSync({ cwd: data, dot: false })].filter((k) => !k.split("/").some((s) => s.startsWith(".")));
  const totalBytes = objects.reduce((n, k) => n + statSync(join(data, k)).size, 0);
  const client = new S3Client({ endpoint: s3.endpoint, bucket: "bench", accessKeyId: "S3RVER", secretAccessKey: "S3RVER", virtualHostedStyle: false });

  async function timed(fn: () => Promise<void>): Promise<Run> {
    const t0 = performance.now();
    await fn();
    return { ms: performance.now() - t0, cpuMs: NaN, maxRssMiB: NaN, code: 0 };
  }
  async function pool<T>(items: T[], fn: (t: T) => Promise<unknown>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < items.length) await fn(items[next++]!);
      }),
    );
  }
  const rawUpload = (prefix: string) => timed(() => pool(objects, (k) => client.write(`${prefix}/${k}`, Bun.file(join(data, k)))));
  const keysFile = join(dir, "keys.txt");
  writeFileSync(keysFile, objects.join("\n") + "\n");
  /** Pinned: the measured command runs on core 1 (s3rver is on core 0, see `placeServer`). */
  const onCores = (cores: Cores): string[] => (cores === "pinned" ? ["taskset", "-c", "1"] : []);
  const rawDownload = (prefix: string, to: string, cores: Cores = "shared") =>
    run([...onCores(cores), process.execPath, join(import.meta.dir, "raw-download.ts"), s3.endpoint, "bench", prefix, to, keysFile, String(CONCURRENCY)]);
  /** s3rver (every thread of it) on core 0 alone, or on every core. */
  function placeServer(cores: Cores): void {
    const all = `0-${Math.max(1, navigator.hardwareConcurrency) - 1}`;
    const p = Bun.spawnSync(["taskset", "-a", "-p", "-c", cores === "pinned" ? "0" : all, String(s3.pid)]);
    if (p.exitCode !== 0) throw new Error(`taskset of s3rver failed: ${p.stderr.toString()}`);
  }
  /** CPU seconds s3rver has used so far (all its threads; Linux /proc, clock ticks of 1/100 s). */
  function serverCpuS(): number {
    const stat = readFileSync(`/proc/${s3.pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime: fields 14 and 15
  }

  // Peak RSS of a pond command, through /usr/bin/time when the machine has it.
  const hasTime = (() => {
    try {
      return statSync("/usr/bin/time").isFile();
    } catch {
      return false;
    }
  })();
  async function pondRun(args: string[], cores: Cores = "shared"): Promise<{ ms: number; cpuMs: number; rssMiB: number }> {
    const rssFile = join(dir, "rss.txt");
    const res = await run([...onCores(cores), ...(hasTime ? ["/usr/bin/time", "-f", "%M", "-o", rssFile] : []), POND_BIN, ...args], { env });
    return { ms: res.ms, cpuMs: res.cpuMs, rssMiB: hasTime ? Number((await Bun.file(rssFile).text()).trim().split("\n").pop()) / 1024 : NaN };
  }

  const ups: { raw: number; push: number }[] = [];
  const downs: { raw: number; restore: number }[] = [];
  let pushRss = 0;
  let restoreRss = 0;
  if (restoreOnly) await measureRestores();
  else await measureAll();

  /** Push and restore in each run, then the incremental push. */
  async function measureAll(): Promise<void> {
    for (let r = 0; r < runs; r++) {
      // Alternate the order so drift on this shared machine does not favour one side.
      const raw = async () => (await rawUpload(`raw${r}`)).ms;
      const push = async () => {
        await run([POND_BIN, "remote", "add", `r${r}`, `s3://bench/pond${r}`, "--endpoint", s3.endpoint], { env });
        const res = await pondRun(["push", `r${r}`]);
        pushRss = Math.max(pushRss, res.rssMiB);
        return res.ms;
      };
      const [a, b] = r % 2 === 0 ? [await raw(), await push()] : [await push(), await raw()].reverse();
      ups.push({ raw: a!, push: b! });

      const rawTo = join(dir, `raw-down${r}`);
      const restoreTo = join(dir, `restored${r}`);
      // Each download starts clean: no dirty pages left by the one before it.
      const settle = () => {
        rmSync(rawTo, { recursive: true, force: true });
        rmSync(restoreTo, { recursive: true, force: true });
        Bun.spawnSync(["sync"]);
      };
      const rawDown = async () => {
        settle();
        return (await rawDownload(`raw${r}`, rawTo)).ms;
      };
      const restore = async () => {
        settle();
        const res = await pondRun(["restore", `s3://bench/pond${r}`, "--endpoint", s3.endpoint, "--pond", restoreTo]);
        restoreRss = Math.max(restoreRss, res.rssMiB);
        return res.ms;
      };
      // Whichever download follows the uploads runs slower (measured: by 0.6–1.1 s at 1 GiB,
      // for raw and pond alike), so one untimed download goes first.
      await rawDown();
      const [c, d] = r % 2 === 0 ? [await rawDown(), await restore()] : [await restore(), await rawDown()].reverse();
      downs.push({ raw: c!, restore: d! });
      settle();
      // Keep s3rver's disk use flat: drop this run's raw copy.
      rmSync(join(s3.dir, "bench", `raw${r}`), { recursive: true, force: true });
      console.log(
        `run ${r + 1}: raw upload ${a!.toFixed(0)} ms, pond push ${b!.toFixed(0)} ms (${(a! / b!).toFixed(2)}x); raw download ${c!.toFixed(0)} ms, pond restore ${d!.toFixed(0)} ms (${(c! / d!).toFixed(2)}x)`,
      );
    }
    const med = (xs: number[]) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const mib = totalBytes / 1024 / 1024;
    const rawUp = med(ups.map((u) => u.raw));
    const pushMs = med(ups.map((u) => u.push));
    const rawDown = med(downs.map((u) => u.raw));
    const restoreMs = med(downs.map((u) => u.restore));
    console.log(
      `pond: ${objects.length} objects, ${mib.toFixed(0)} MiB; medians of ${runs}: raw upload ${(mib / (rawUp / 1000)).toFixed(0)} MiB/s, pond push ${(mib / (pushMs / 1000)).toFixed(0)} MiB/s; raw download ${(mib / (rawDown / 1000)).toFixed(0)} MiB/s, pond restore ${(mib / (restoreMs / 1000)).toFixed(0)} MiB/s`,
    );

    // Incremental: one small change, then push; bytes sent vs the change plus its log entry.
    const before = new Map([...new Bun.Glob("**/*").scanSync({ cwd: data })].map((k) => [k, statSync(join(data, k)).size]));
    writeFileSync(join(dir, "change.txt"), "one small change\n");
    await run([POND_BIN, "copy", `host://${join(dir, "change.txt")}`, "/change.txt"], { env });
    const change = [...new Bun.Glob("**/*").scanSync({ cwd: data })].filter((k) => !before.has(k)).reduce((n, k) => n + statSync(join(data, k)).size, 0);
    const remoteBefore = new Map(
      s3
        .keys()
        .filter((k) => k.startsWith("pond0/"))
        .map((k) => [k, statSync(s3.objectFile(k)).size]),
    );
    await run([POND_BIN, "push", "r0"], { env });
    const sent = s3
      .keys()
      .filter((k) => k.startsWith("pond0/") && remoteBefore.get(k) !== statSync(s3.objectFile(k)).size)
      .reduce((n, k) => n + statSync(s3.objectFile(k)).size, 0);
    console.log(
      `incremental push: the change and its log entry ${change} bytes; sent ${sent} bytes (objects new on the remote, manifest and history included)`,
    );

    // The result is the median of the per-run ratios: each run's pair ran back to back.
    report("pond push throughput / raw upload (median of runs)", med(ups.map((u) => u.raw / u.push)), 0.7, "x", false);
    report("pond restore throughput / raw download (median of runs)", med(downs.map((u) => u.raw / u.restore)), 0.9, "x", false);
    report("incremental push bytes / (change + log entry)", sent / change, 2, "x");
    if (hasTime) {
      console.log(`peak RSS: pond push ${pushRss.toFixed(0)} MiB, pond restore ${restoreRss.toFixed(0)} MiB`);
      report("pond push peak RSS", pushRss, 128, " MiB");
    }
  }

  /**
   * Restore alone: one push and one raw upload, then `runs` rounds; each round runs, in
   * each configuration (see the header), a raw download and a restore, in alternating order.
   */
  async function measureRestores(): Promise<void> {
    await rawUpload("raw");
    await run([POND_BIN, "remote", "add", "r", "s3://bench/pond", "--endpoint", s3.endpoint], { env });
    await run([POND_BIN, "push", "r"], { env });
    const rawTo = join(dir, "raw-down");
    const restoreTo = join(dir, "restored");
    const settle = () => {
      rmSync(rawTo, { recursive: true, force: true });
      rmSync(restoreTo, { recursive: true, force: true });
      Bun.spawnSync(["sync"]);
    };
    interface Measured {
      ms: number;
      cpuMs: number;
      serverCpuMs: number;
    }
    const measured = async (fn: () => Promise<{ ms: number; cpuMs: number }>): Promise<Measured> => {
      settle();
      const s0 = serverCpuS();
      const res = await fn();
      return { ms: res.ms, cpuMs: res.cpuMs, serverCpuMs: (serverCpuS() - s0) * 1000 };
    };
    const rawDown = (cores: Cores) => measured(() => rawDownload("raw", rawTo, cores));
    const restore = (cores: Cores) =>
      measured(async () => {
        const res = await pondRun(["restore", "s3://bench/pond", "--endpoint", s3.endpoint, "--pond", restoreTo], cores);
        restoreRss = Math.max(restoreRss, res.rssMiB);
        return res;
      });
    const rounds: Record<Cores, { raw: Measured; restore: Measured }[]> = { pinned: [], shared: [] };
    for (const cores of configs) {
      placeServer(cores);
      await rawDown(cores); // the first download after the uploads runs slower (see measureAll)
    }
    for (let r = 0; r < runs; r++) {
      for (const cores of r % 2 === 0 ? configs : configs.toReversed()) {
        placeServer(cores);
        const [c, d] = r % 2 === 0 ? [await rawDown(cores), await restore(cores)] : [await restore(cores), await rawDown(cores)].reverse();
        rounds[cores].push({ raw: c!, restore: d! });
        console.log(
          `round ${r + 1} ${cores}: raw download ${c!.ms.toFixed(0)} ms (CPU ${c!.cpuMs.toFixed(0)} ms, s3rver ${c!.serverCpuMs.toFixed(0)} ms), pond restore ${d!.ms.toFixed(0)} ms (CPU ${d!.cpuMs.toFixed(0)} ms, s3rver ${d!.serverCpuMs.toFixed(0)} ms): ${(c!.ms / d!.ms).toFixed(2)}x`,
        );
      }
    }
    placeServer("shared");
    settle();
    const med = (xs: number[]) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const gib = totalBytes / 1024 ** 3;
    const perGiB = (ms: number) => `${(ms / 1000 / gib).toFixed(2)} s`;
    console.log(
      `pond: ${objects.length} objects, ${(gib * 1024).toFixed(0)} MiB; peak RSS of restore ${restoreRss.toFixed(0)} MiB; load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    for (const cores of configs) {
      const rs = rounds[cores];
      const m = (f: (x: { raw: Measured; restore: Measured }) => number) => med(rs.map(f));
      console.log(
        `${cores}, medians of ${runs}: raw download ${m((x) => x.raw.ms).toFixed(0)} ms (CPU ${perGiB(m((x) => x.raw.cpuMs))}/GiB, s3rver ${perGiB(m((x) => x.raw.serverCpuMs))}/GiB); pond restore ${m((x) => x.restore.ms).toFixed(0)} ms (CPU ${perGiB(m((x) => x.restore.cpuMs))}/GiB, s3rver ${perGiB(m((x) => x.restore.serverCpuMs))}/GiB)`,
      );
    }
    // The target line is the pinned one (a remote S3 does not take the client's CPU); the
    // shared figure is printed beside it, with the same target, so neither hides the other.
    for (const cores of configs)
      report(
        `pond restore throughput / raw download, ${cores === "pinned" ? "s3rver on core 0, both commands on core 1" : "s3rver and client sharing both cores"} (median of runs)`,
        med(rounds[cores].map((u) => u.raw.ms / u.restore.ms)),
        0.9,
        "x",
        false,
      );
  }
} finally {
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
}
