// Issue 14's collector targets, each a ratio against a baseline measured in the same run
// (interleaved medians, bench/lib.ts):
//  (a) `pond collect` of 10 HydroVu devices × 100,000 readings from the fake server (pages of
//      1,000 readings) vs a script that fetches the same pages with plain fetch (and parses
//      them): ≤ 1.5×, and pond's peak RSS < 256 MiB;
//  (b) a run that finds nothing new for 10 devices vs `pond cat` of a small file: ≤ 2×;
//  (c) an inbox of 500 small CSVs vs `pond copy` of all of them in one command (the same
//      --sql): ≤ 1.5×.
// The fake (test/support/fake-hydrovu.ts) runs in this process; every timed command is a
// child process. A reading is one (timestamp, value) of one parameter: the fake's devices
// have 2 parameters throughout and a third from mid-history, 2.5 readings per timestamp.
// Run: node_modules/.bin/bun bench/collect.bench.ts [--devices 10] [--readings 100000]
//        [--page 1000] [--latency 0] [--files 500] [--rounds 5] [--only a,b,c]
//        [--before OTHER_POND_BIN]  (a) also times another build in the same rounds (before/after)
// Internal: bench/collect.bench.ts --fetch-only URL IDS PAGE is the plain-fetch baseline.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeHydroVu, generateLocation } from "../test/support/fake-hydrovu.ts";
import { interleaved, POND_BIN, report, run, type Run } from "./lib.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DEVICES = arg("--devices", 10);
const READINGS = arg("--readings", 100_000);
const PAGE = arg("--page", 1000);
const FILES = arg("--files", 500);
const ROUNDS = arg("--rounds", 5);
/** Milliseconds the fake waits before each answer in (a), as a network would (default 0: CPU-bound). */
const LATENCY = arg("--latency", 0);
const ONLY = (() => {
  const i = process.argv.indexOf("--only");
  return i > 0 ? process.argv[i + 1]!.split(",") : ["a", "b", "c"];
})();
/** Another pond binary timed beside POND_BIN in (a), e.g. a build from before a change. */
const BEFORE = (() => {
  const i = process.argv.indexOf("--before");
  return i > 0 ? process.argv[i + 1]! : undefined;
})();
const ENV = { HV_ID: "fake-id", HV_SECRET: "fake-secret" };
const T0 = 1_600_000_000;

/** The plain-fetch baseline: token, friendly names, then every page of every device, parsed. */
async function fetchOnly(base: string, ids: number[]): Promise<void> {
  const form = new URLSearchParams({ grant_type: "client_credentials", client_id: ENV.HV_ID, client_secret: ENV.HV_SECRET });
  const tok = (await (await fetch(`${base}oauth/token`, { method: "POST", body: form })).json()) as { access_token: string };
  const auth = { authorization: `Bearer ${tok.access_token}` };
  await (await fetch(`${base}v1/sispec/friendlynames`, { headers: auth })).json();
  let readings = 0;
  for (const id of ids) {
    let cursor = "";
    for (;;) {
      const r = await fetch(`${base}v1/locations/${id}/data?startTime=0`, { headers: { ...auth, "X-ISI-Start-Page": cursor } });
      const j = (await r.json()) as { parameters: { readings: unknown[] }[] };
      for (const p of j.parameters) readings += p.readings.length;
      cursor = r.headers.get("x-isi-next-page") ?? "";
      if (!cursor) break;
    }
  }
  if (readings === 0) throw new Error("fetched nothing");
}

if (process.argv[2] === "--fetch-only") {
  await fetchOnly(process.argv[3]!, process.argv[4]!.split(",").map(Number));
  process.exit(0);
}

/** (a)'s devices: ids 1000…, READINGS readings each (2.5 a timestamp), pages of PAGE readings. */
function benchFake(): FakeHydroVu {
  const ids = Array.from({ length: DEVICES }, (_, i) => 1000 + i);
  return new FakeHydroVu(
    ids.map((id) => generateLocation(id, `d${id}`, { start: T0, count: Math.round(READINGS / 2.5), step: 60 })),
    { pageSize: Math.round(PAGE / 2.5), latencyMs: LATENCY },
  );
}

// Internal: `--serve-fake [size flags]` serves (a)'s fake and prints its URL. (a) runs it in a
// child process: a child's peak RSS as the kernel reports it counts the memory of the process
// it was forked from, so the fake's readings (~200 MiB at full size) must not be in this one.
if (process.argv[2] === "--serve-fake") {
  const fake = benchFake();
  console.log(fake.url);
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("close", () => process.exit(0));
  await new Promise(() => {});
}

const root = mkdtempSync(join(tmpdir(), "pond-bench-collect-"));
let ok = true;
const pondEnv = (dir: string) => ({ ...ENV, POND: dir });

async function newPond(name: string): Promise<string> {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  await run([POND_BIN, "init", "--pond", dir]);
  return dir;
}

async function addConfig(pondDir: string, name: string, yaml: string): Promise<void> {
  const f = join(root, `${name}.yaml`);
  writeFileSync(f, yaml);
  await run([POND_BIN, "copy", "-p", `host://${f}`, `/etc/collect/${name}.yaml`], { env: pondEnv(pondDir) });
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n")) return text.slice(0, text.indexOf("\n"));
  }
  throw new Error("the fake server exited before printing its URL");
}

function hydrovuYaml(fake: { url: string }, ids: number[]): string {
  return `kind: hydrovu\nclient_id: \${env:HV_ID}\nclient_secret: \${env:HV_SECRET}\nbase_url: ${fake.url}\ndestination: /hv\nrequests_per_minute: 1000000\ndevices:\n${ids.map((id) => `  - {id: ${id}, name: d${id}}`).join("\n")}\n`;
}

try {
  if (ONLY.includes("a")) {
    // 2.5 readings per timestamp: READINGS readings are READINGS / 2.5 timestamps, PAGE readings a page.
    const ids = Array.from({ length: DEVICES }, (_, i) => 1000 + i);
    const server = Bun.spawn([process.execPath, import.meta.path, "--serve-fake", ...process.argv.slice(2)], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    });
    const fake = { url: await firstLine(server.stdout), stop: () => server.kill() };
    try {
      const collectWith = (bin: string) => async () => {
        const pondDir = await newPond("a");
        await addConfig(pondDir, "hv", hydrovuYaml(fake, ids));
        return run([bin, "collect"], { env: pondEnv(pondDir) });
      };
      const r = await interleaved(ROUNDS, {
        fetch: () => run([process.execPath, import.meta.path, "--fetch-only", fake.url, ids.join(",")]),
        collect: collectWith(POND_BIN),
        ...(BEFORE ? { before: collectWith(BEFORE) } : {}),
      } as Record<"fetch" | "collect" | "before", () => Promise<Run>>);
      if (BEFORE)
        console.log(
          `(a) before (${BEFORE}): ${r.before.ms.toFixed(0)} ms (CPU ${r.before.cpuMs.toFixed(0)} ms), ${(r.before.ms / r.fetch.ms).toFixed(2)}x plain fetch (peak RSS ${r.before.maxRssMiB.toFixed(0)} MiB)`,
        );
      console.log(
        `(a) ${DEVICES} devices × ${READINGS} readings, pages of ${PAGE}, ${LATENCY} ms latency: plain fetch ${r.fetch.ms.toFixed(0)} ms (CPU ${r.fetch.cpuMs.toFixed(0)} ms), pond collect ${r.collect.ms.toFixed(0)} ms (CPU ${r.collect.cpuMs.toFixed(0)} ms; peak RSS ${r.collect.maxRssMiB.toFixed(0)} MiB; fetch script ${r.fetch.maxRssMiB.toFixed(0)} MiB)`,
      );
      ok = report("(a) HydroVu run vs plain fetch of the same pages", r.collect.ms / r.fetch.ms, 1.5, "x") && ok;
      ok = report("(a) pond collect peak RSS", r.collect.maxRssMiB, 256, " MiB") && ok;
    } finally {
      fake.stop();
    }
  }

  if (ONLY.includes("b")) {
    const ids = Array.from({ length: 10 }, (_, i) => 2000 + i);
    const fake = new FakeHydroVu(
      ids.map((id) => generateLocation(id, `d${id}`, { start: T0, count: 200 })),
      { pageSize: 100 },
    );
    try {
      const pondDir = await newPond("b");
      await addConfig(pondDir, "hv", hydrovuYaml(fake, ids));
      await run([POND_BIN, "collect"], { env: pondEnv(pondDir) });
      const small = join(root, "small.txt");
      writeFileSync(small, "a small file\n");
      await run([POND_BIN, "copy", `host://${small}`, "/small.txt"], { env: pondEnv(pondDir) });
      const r = await interleaved(ROUNDS * 2, {
        cat: () => run([POND_BIN, "cat", "/small.txt"], { env: pondEnv(pondDir) }),
        collect: () => run([POND_BIN, "collect"], { env: pondEnv(pondDir) }),
      });
      console.log(`(b) nothing new for 10 devices: pond cat ${r.cat.ms.toFixed(0)} ms, pond collect ${r.collect.ms.toFixed(0)} ms`);
      ok = report("(b) a run that finds nothing new vs pond cat of a small file", r.collect.ms / r.cat.ms, 2, "x") && ok;
    } finally {
      fake.stop();
    }
  }

  if (ONLY.includes("c")) {
    const inbox = join(root, "inbox");
    mkdirSync(inbox, { recursive: true });
    const files: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const rows = Array.from({ length: 20 }, (_, k) => `${new Date((T0 + i * 3600 + k * 60) * 1000).toISOString()},${(i * 20 + k) / 10}`);
      const f = join(inbox, `f${String(i).padStart(4, "0")}.csv`);
      writeFileSync(f, `ts,temp\n${rows.join("\n")}\n`);
      files.push(f);
    }
    const sql = "SELECT ts AS timestamp, temp::DOUBLE AS temp FROM source";
    const r = await interleaved(ROUNDS, {
      copy: async () => {
        const pondDir = await newPond("c-copy");
        return run([POND_BIN, "copy", "-p", ...files.map((f) => `host+series+csv://${f}`), "/in/all.series", "--sql", sql], { env: pondEnv(pondDir) });
      },
      inbox: async () => {
        const pondDir = await newPond("c-inbox");
        await addConfig(pondDir, "in", `kind: inbox\nfrom: ${inbox}\npattern: "*.csv"\nsql: ${sql}\ndestination: /in/all.series\n`);
        return run([POND_BIN, "collect"], { env: pondEnv(pondDir) });
      },
    });
    console.log(`(c) ${FILES} small CSVs: pond copy ${r.copy.ms.toFixed(0)} ms, inbox ${r.inbox.ms.toFixed(0)} ms`);
    ok = report(`(c) inbox of ${FILES} CSVs vs one pond copy of them`, r.inbox.ms / r.copy.ms, 1.5, "x") && ok;
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
if (!ok) process.exitCode = 1;
