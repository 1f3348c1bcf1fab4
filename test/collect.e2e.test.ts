import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeHydroVu, extendLocation, generateLocation, type FakeLocation } from "./support/fake-hydrovu.ts";
import { POND_BIN, latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";

const ENV = { HV_ID: "fake-id", HV_SECRET: "fake-secret" };
const T0 = 1_700_000_000;

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

interface Setup {
  pondDir: string;
  dir: string;
  fake: FakeHydroVu;
  run(args?: string[], env?: Record<string, string>): ReturnType<typeof pond>;
}

/** A pond with /etc/collect/hv.yaml pointing at a fresh fake with these locations. */
async function setup(locations: FakeLocation[], extra = "", fakeOpts: ConstructorParameters<typeof FakeHydroVu>[1] = {}): Promise<Setup> {
  const p = await newPond();
  const fake = new FakeHydroVu(locations, { pageSize: 100, ...fakeOpts });
  cleanups.push(p.cleanup, () => fake.stop());
  const devices = locations.map((l) => `  - {id: ${l.id}, name: ${l.name}}`).join("\n");
  const yaml = `kind: hydrovu\nclient_id: \${env:HV_ID}\nclient_secret: \${env:HV_SECRET}\nbase_url: ${fake.url}\ndestination: /data/hv\nrequest_timeout: 2\nmax_retries: 4\ndevices:\n${devices}\n${extra}`;
  writeFileSync(join(p.dir, "hv.yaml"), yaml);
  await pondOk(["copy", "-p", `host://${join(p.dir, "hv.yaml")}`, "/etc/collect/hv.yaml"], { pond: p.pondDir });
  return { ...p, fake, run: (args = [], env = {}) => pond(["collect", ...args], { pond: p.pondDir, env: { ...ENV, ...env } }) };
}

/** Every row of a series as {t: unix s, column: value}, sorted by time, with the row count and distinct times. */
async function seriesRows(pondDir: string, name: string): Promise<Map<number, Record<string, number>>> {
  const r = await pondOk(
    ["query", `SELECT * EXCLUDE (timestamp), epoch(timestamp)::BIGINT AS t FROM '/data/hv/${name}.series' ORDER BY t`, "--format", "jsonl"],
    { pond: pondDir },
  );
  const rows = new Map<number, Record<string, number>>();
  for (const line of r.stdout.split("\n").filter(Boolean)) {
    const { t, ...cols } = JSON.parse(line) as Record<string, number | null>;
    if (rows.has(t as number)) throw new Error(`timestamp ${t} appears twice in ${name}`);
    rows.set(t as number, Object.fromEntries(Object.entries(cols).filter(([, v]) => v !== null)) as Record<string, number>);
  }
  return rows;
}

async function expectExact(s: Setup, loc: FakeLocation): Promise<void> {
  const got = await seriesRows(s.pondDir, loc.name);
  const want = s.fake.expectedRows(loc.id);
  expect(got.size).toBe(want.size);
  expect([...got.entries()]).toEqual([...want.entries()].sort((a, b) => a[0] - b[0]));
}

describe("collector configs", () => {
  const cases: [string, string, RegExp][] = [
    [
      "an unknown key",
      "kind: hydrovu\nclient_id: ${env:A}\nclient_secret: ${env:B}\ndestination: /d\ndevices: []\nbase_urll: http://x/\n",
      /key "base_urll": unknown key; allowed here: .*base_url/,
    ],
    ["a missing key", "kind: hydrovu\nclient_id: ${env:A}\nclient_secret: ${env:B}\ndevices: []\n", /key "destination": missing; it is required/],
    [
      "a wrong type",
      "kind: hydrovu\nclient_id: ${env:A}\nclient_secret: ${env:B}\ndestination: /d\ndevices:\n  - {id: seven, name: x}\n",
      /key "devices\[0\]\.id": expected a whole number/,
    ],
    [
      "a literal secret",
      "kind: hydrovu\nclient_id: ${env:A}\nclient_secret: hunter2-very-secret\ndestination: /d\ndevices: []\n",
      /key "client_secret": a secret must be a \$\{env:NAME\} reference/,
    ],
    ["an unknown kind", "kind: sftp\n", /key "kind": "sftp" is not a collector; allowed: hydrovu, inbox/],
    ["bad YAML", "kind: [hydrovu\n", /not valid YAML/],
  ];
  for (const [what, yaml, message] of cases) {
    test(`copy into /etc/collect/ refuses ${what} and stores nothing`, async () => {
      const p = await newPond();
      cleanups.push(p.cleanup);
      writeFileSync(join(p.dir, "c.yaml"), yaml);
      const before = await latestLogVersion(p.pondDir);
      const r = await pond(["copy", "-p", `host://${join(p.dir, "c.yaml")}`, "/etc/collect/c.yaml"], { pond: p.pondDir });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('"/etc/collect/c.yaml"');
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain("hunter2");
      expect(await latestLogVersion(p.pondDir)).toBe(before);
      // The same file elsewhere is just bytes.
      await pondOk(["copy", `host://${join(p.dir, "c.yaml")}`, "/c.yaml"], { pond: p.pondDir });
    });
  }

  test("an unset secret variable fails at use naming the variable, and no value is printed", async () => {
    const s = await setup([generateLocation(101, "A", { start: T0, count: 10 })]);
    const r = await s.run([], { HV_SECRET: "" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("${env:HV_SECRET}, which is not set");
    expect(r.stdout).toContain("/etc/collect/hv.yaml: hydrovu: FAILED");
    const ok = await s.run();
    expect(ok.stdout + ok.stderr).not.toContain("fake-secret");
  });

  test("pond collect with no configs says how to add one", async () => {
    const p = await newPond();
    cleanups.push(p.cleanup);
    const r = await pond(["collect"], { pond: p.pondDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("No collector configs under /etc/collect/");
  });
});

describe("HydroVu", () => {
  test("--dry-run plans from the watermark and writes nothing; --list-locations pages through locations", async () => {
    const locs = [
      generateLocation(101, "A", { start: T0, count: 30 }),
      generateLocation(102, "B", { start: T0, count: 30 }),
      generateLocation(103, "C", { start: T0, count: 30 }),
    ];
    const s = await setup(locs, "start: 2023-11-14T00:00:00Z\n");
    const before = await latestLogVersion(s.pondDir);
    const dry = await s.run(["--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("device 101 (A) → /data/hv/A.series from 2023-11-14T00:00:00Z (new series)");
    expect(await latestLogVersion(s.pondDir)).toBe(before);
    expect(s.fake.log.length).toBe(0);
    await pondOk(["collect"], { pond: s.pondDir, env: ENV });
    const dry2 = await s.run(["--dry-run", "--format", "json"]);
    const plan = JSON.parse(dry2.stdout)[0].plan as string[];
    expect(plan[0]).toBe(`device 101 (A) → /data/hv/A.series from ${new Date((T0 + 29 * 900 + 1) * 1000).toISOString().replace(".000", "")}`);
    const list = await s.run(["--list-locations", "/etc/collect/hv.yaml", "--format", "json"]);
    expect(JSON.parse(list.stdout).map((l: { id: number }) => l.id)).toEqual([101, 102, 103]);
  });

  test("runs with transient failures hold exactly the fake's readings, once each", async () => {
    const a = generateLocation(101, "A", { start: T0, count: 950 });
    const b = generateLocation(102, "B", { start: T0, count: 420, withPh: false });
    const dormant = generateLocation(103, "Dormant", { start: T0 - 86400 * 30, count: 40 });
    // Tokens expire after 7 uses, so every run re-authenticates mid-run, several times.
    const s = await setup([a, b, dormant], "max_points_per_run: 1500\n", { tokenUses: 7 });
    s.fake.inject(/\/v1\/locations\/101\/data/, { kind: "429", retryAfter: "1" }, 1, 2);
    s.fake.inject(/\/v1\/locations\/101\/data/, { kind: "500" }, 2, 3);
    s.fake.inject(/\/v1\/locations\/102\/data/, { kind: "drop" }, 1, 2);
    s.fake.inject(/\/v1\/locations\/102\/data/, { kind: "hang", ms: 3000 }, 1, 3);
    const r1 = await s.run(["--format", "json"]);
    expect(r1.code).toBe(0);
    const j1 = JSON.parse(r1.stdout)[0];
    expect(j1.ok).toBe(true);
    expect(j1.notes.join("\n")).toContain("stopped at max_points_per_run");
    // Device A has 950 times × 2-3 parameters: the budget stops it before its end.
    const afterFirst = await seriesRows(s.pondDir, "A");
    expect(afterFirst.size).toBeGreaterThan(0);
    expect(afterFirst.size).toBeLessThan(950);
    expect(s.fake.log.filter((l) => l.startsWith("POST /oauth/token")).length).toBeGreaterThan(1);

    s.fake.expireTokens();
    s.fake.inject(/\/v1\/locations\/103\/data/, { kind: "500" }, 1);
    for (let i = 0; i < 6; i++) expect((await s.run()).code).toBe(0);
    await expectExact(s, a);
    await expectExact(s, b);
    await expectExact(s, dormant);

    // New readings arrive; the dormant logger stays silent and gets no version.
    extendLocation(a, 37);
    extendLocation(b, 5);
    const versionsBefore = (await pondOk(["describe", "/data/hv/Dormant.series", "--format", "json"], { pond: s.pondDir })).stdout;
    const r3 = await s.run();
    expect(r3.stdout).toMatch(/: hydrovu: 42 rows added in 2 versions, .* requests, transaction \d+/);
    await expectExact(s, a);
    await expectExact(s, b);
    expect((await pondOk(["describe", "/data/hv/Dormant.series", "--format", "json"], { pond: s.pondDir })).stdout).toBe(versionsBefore);
    // The parameter that appears mid-history reads null before it existed.
    const rows = await seriesRows(s.pondDir, "A");
    expect(rows.get(T0)!["pH.pH"]).toBeUndefined();
    expect(rows.get(T0 + 949 * 900)!["pH.pH"]).toBeNumber();
    // A run that finds nothing new adds nothing.
    const seq = await latestLogVersion(s.pondDir);
    expect((await s.run()).stdout).toContain("0 rows added in 0 versions");
    expect(await latestLogVersion(s.pondDir)).toBe(seq);
  }, 120_000);

  const fatal: [string, Parameters<FakeHydroVu["inject"]>[1], number, RegExp][] = [
    ["5xx beyond max_retries", { kind: "500" }, 10, /device 102 \(B\): GET \/v1\/locations\/102\/data\?startTime=0: gave up after 5 attempts; last: HTTP 500/],
    ["bad JSON", { kind: "badjson" }, 1, /device 102 \(B\): GET \/v1\/locations\/102\/data\?startTime=\d+ page 2: the answer is not valid JSON/],
    [
      "a value that is not a number",
      { kind: "badvalue" },
      1,
      /device 102 \(B\): GET \/v1\/locations\/102\/data\?startTime=\d+ page 2: parameter \d+ at \d+: the value "n\/a" is not a number/,
    ],
    [
      "a Retry-After beyond the cap",
      { kind: "429", retryAfter: "3600" },
      1,
      /device 102 \(B\): GET \/v1\/locations\/102\/data\?startTime=0: HTTP 429: the server asks to wait 3600 s/,
    ],
    ["a 403 (not retried)", { kind: "status", status: 403 }, 1, /device 102 \(B\): GET \/v1\/locations\/102\/data\?startTime=0: HTTP 403/],
  ];
  for (const [what, failure, times, message] of fatal) {
    test(`${what} fails the run naming device, request and cause, writes nothing; the next run is exact`, async () => {
      const a = generateLocation(101, "A", { start: T0, count: 150 });
      const b = generateLocation(102, "B", { start: T0, count: 250 });
      const s = await setup([a, b]);
      s.fake.inject(/\/v1\/locations\/102\/data/, failure, times, 2);
      const before = await latestLogVersion(s.pondDir);
      const r = await s.run();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain("nothing written");
      expect(await latestLogVersion(s.pondDir)).toBe(before);
      s.fake.clearFailures();
      expect((await s.run()).code).toBe(0);
      await expectExact(s, a);
      await expectExact(s, b);
    }, 60_000);
  }

  test("SIGKILL mid-run writes nothing; a clean run then gives the exact result", async () => {
    const a = generateLocation(101, "A", { start: T0, count: 300 });
    const b = generateLocation(102, "B", { start: T0, count: 300 });
    const s = await setup([a, b]);
    s.fake.inject(/\/v1\/locations\/102\/data/, { kind: "hang", ms: 1500 }, 1, 2);
    const before = await latestLogVersion(s.pondDir);
    const p = Bun.spawn([POND_BIN, "collect"], { env: { ...process.env, ...ENV, POND: s.pondDir }, stdout: "ignore", stderr: "ignore" });
    // Wait until it asks for device B's second page (the one that hangs), then kill it.
    while (!s.fake.log.some((l) => l.includes("/102/data") && !l.endsWith(" "))) await Bun.sleep(20);
    p.kill("SIGKILL");
    await p.exited;
    expect(await latestLogVersion(s.pondDir)).toBe(before);
    s.fake.clearFailures();
    expect((await s.run()).code).toBe(0);
    await expectExact(s, a);
    await expectExact(s, b);
  }, 60_000);

  test("secrets are never printed: a refused secret, and a server that echoes the form in its error", async () => {
    const s = await setup([generateLocation(101, "A", { start: T0, count: 10 })]);
    const wrong = await s.run([], { HV_SECRET: "wrong-secret-4711" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("POST /oauth/token: HTTP 401: the client id or secret was refused");
    s.fake.inject(/\/oauth\/token/, { kind: "echo" }, 1);
    const echoed = await s.run(["--format", "json"]);
    expect(echoed.code).toBe(1);
    expect(echoed.stderr).toContain("POST /oauth/token: HTTP 400");
    expect(echoed.stderr).toContain("client_secret=***");
    const log = await pondOk(["log"], { pond: s.pondDir });
    for (const out of [wrong.stdout, wrong.stderr, echoed.stdout, echoed.stderr, log.stdout]) {
      expect(out).not.toContain("wrong-secret-4711");
      expect(out).not.toContain("fake-secret");
      expect(out).not.toContain("fake-id");
    }
  });

  test("copying a config caches its parsed document for the runs (control/collect-config-cache.json); a run reads it from there", async () => {
    const a = generateLocation(101, "A", { start: T0, count: 30 });
    const s = await setup([a]);
    const cacheFile = join(s.pondDir, "control", "collect-config-cache.json");
    const entries = () => Object.keys((JSON.parse(readFileSync(cacheFile, "utf8")) as { entries: object }).entries);
    expect(entries()).toHaveLength(1); // written by the copy's check
    // The run uses the cached document: one that names another destination is what it follows.
    const doc = JSON.parse(readFileSync(cacheFile, "utf8")) as { entries: Record<string, { destination: string }> };
    const key = Object.keys(doc.entries)[0]!;
    doc.entries[key]!.destination = "/data/elsewhere";
    writeFileSync(cacheFile, JSON.stringify(doc));
    expect((await s.run()).code).toBe(0);
    expect((await pondOk(["describe", "/data/elsewhere/A.series"], { pond: s.pondDir })).stdout).toContain("A.series");
    expect(entries()).toEqual([key]);
  });

  test("devices fetched two at a time share one token; a failed friendly-names request fails the run naming it, and writes nothing", async () => {
    const locs = [101, 102, 103].map((id) => generateLocation(id, `D${id}`, { start: T0, count: 250 }));
    const s = await setup(locs);
    const before = await latestLogVersion(s.pondDir);
    s.fake.inject(/\/v1\/sispec\/friendlynames/, { kind: "status", status: 403 }, 1);
    const failed = await s.run();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("fetching parameter names");
    expect(failed.stderr).toContain("HTTP 403");
    expect(await latestLogVersion(s.pondDir)).toBe(before);
    s.fake.log.length = 0;
    expect((await s.run()).code).toBe(0);
    expect(s.fake.log.filter((l) => l.startsWith("POST /oauth/token")).length).toBe(1);
    for (const l of locs) await expectExact(s, l);
  });

  test("an inactive device is not fetched; a parameter or unit without a friendly name is named by its ids", async () => {
    const a = generateLocation(101, "A", { start: T0, count: 20, withPh: false });
    a.parameters.push({ parameterId: "77", unitId: "99", readings: a.parameters[0]!.readings.map(([t]) => [t, t % 13]) });
    const off = generateLocation(102, "Off", { start: T0, count: 20 });
    const s = await setup([a, off]);
    const yaml = (await pondOk(["cat", "/etc/collect/hv.yaml"], { pond: s.pondDir })).stdout.replace(
      "{id: 102, name: Off}",
      "{id: 102, name: Off, active: false}",
    );
    writeFileSync(join(s.dir, "hv2.yaml"), yaml);
    await pondOk(["copy", `host://${join(s.dir, "hv2.yaml")}`, "/etc/collect/hv.yaml"], { pond: s.pondDir });
    expect((await s.run()).code).toBe(0);
    const rows = await seriesRows(s.pondDir, "A");
    expect(rows.size).toBe(20);
    expect(rows.get(T0)!["77.99"]).toBe(T0 % 13);
    expect(s.fake.log.some((l) => l.includes("/102/"))).toBe(false);
    expect((await pond(["describe", "/data/hv/Off.series"], { pond: s.pondDir })).code).not.toBe(0);
  });

  test("a progress bar is drawn on stderr when it is a terminal", async () => {
    const s = await setup([generateLocation(101, "A", { start: T0, count: 300 })]);
    const env = { ...(process.env as Record<string, string>), ...ENV, POND: s.pondDir };
    // script(1) gives the command a pseudo-terminal, as cron does not.
    const p = Bun.spawn(["script", "-qec", `${POND_BIN} collect`, "/dev/null"], { env, stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    expect(out).toMatch(/\rcollect \[#+-*\] 1\/1 files/);
    expect(out).toContain("300 rows added in 1 versions");
    // Not a terminal: no bar.
    expect((await s.run()).stderr).not.toContain("collect [");
  });

  test("two overlapping runs: the one that commits second leaves out a device the first already wrote", async () => {
    const a = generateLocation(101, "A", { start: T0, count: 300 });
    const s = await setup([a]);
    s.fake.inject(/\/v1\/locations\/101\/data/, { kind: "hang", ms: 1500 }, 1, 3);
    const slow = pond(["collect"], { pond: s.pondDir, env: ENV });
    // The slow run is waiting for page 3; a second run fetches everything and commits first.
    while (!s.fake.log.some((l) => l.includes("/101/data") && l.includes(btoa(JSON.stringify({ page: 3, startTime: 0 }))))) await Bun.sleep(20);
    const fast = await s.run();
    expect(fast.stdout).toContain("300 rows added in 1 versions");
    const r = await slow;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("0 rows added in 0 versions");
    expect(r.stderr).toContain("device 101 (A): another run wrote /data/hv/A.series meanwhile; the next run continues from it");
    await expectExact(s, a);
  }, 60_000);

  test("--wait waits for the write lock; --wait 0 fails at once when the pond is busy", async () => {
    const s = await setup([generateLocation(101, "A", { start: T0, count: 20 })]);
    // Hold the pond's write lock from this process (flock on control/lock), as a long command would.
    const { acquireWriteLock } = await import("@pond/steward");
    const lock = await acquireWriteLock(join(s.pondDir, "control", "lock"), s.pondDir, 1000, "test");
    const busy = await s.run(["--wait", "0"]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("is locked by");
    const late = s.run(["--wait", "30"]);
    await Bun.sleep(1500);
    lock.release();
    const r = await late;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("20 rows added in 1 versions");
  }, 60_000);
});
