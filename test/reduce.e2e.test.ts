import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeHydroVu, generateLocation } from "./support/fake-hydrovu.ts";
import { latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

// Minute i (from 2025-01-06 00:00 UTC, a Monday) has temp = i and depth = i % 7.
const T0 = Date.UTC(2025, 0, 6);
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function csv(rows: [number, number, number][]): string {
  return "timestamp,temp,depth\n" + rows.map(([i, temp, depth]) => `${iso(T0 + i * 60_000)},${temp},${depth}`).join("\n") + "\n";
}
const minutes = (from: number, to: number): [number, number, number][] => Array.from({ length: to - from }, (_, k) => [from + k, from + k, (from + k) % 7]);

const CONFIG = `in: /st/*.series
out: /reduced
resolutions: [1h, 1d, 7d]
aggregations:
  temp: [avg, min, max, count, sum, first, last]
  depth: [max]
`;

async function setup() {
  const p = await newPond();
  cleanups.push(p.cleanup);
  const host = (name: string, text: string) => {
    writeFileSync(join(p.dir, name), text);
    return `host://${join(p.dir, name)}`;
  };
  const run = (args: string[]) => pond(args, { pond: p.pondDir });
  const ok = (args: string[]) => pondOk(args, { pond: p.pondDir });
  await ok(["mkdir", "/st"]);
  await ok(["copy", host("day1.csv", csv(minutes(0, 1440))).replace("host:", "host+series+csv:"), "/st/lake.series"]);
  return { ...p, host, run, ok };
}

/** Rows of a reduced series as objects, through `pond cat --format jsonl`. */
async function rows(ok: (a: string[]) => Promise<{ stdout: string }>, path: string, extra: string[] = []): Promise<Record<string, unknown>[]> {
  const r = await ok(["cat", path, "--format", "jsonl", ...extra]);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("pond reduce", () => {
  test("a bad config is refused when copied under /etc/reduce/, naming the file and key; nothing is stored", async () => {
    const s = await setup();
    const before = await latestLogVersion(s.pondDir);
    const r = await s.run(["copy", "-p", s.host("bad.yaml", CONFIG.replace("[1h, 1d, 7d]", "[1h, 90 minutes]")), "/etc/reduce/bad.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Reduction config "/etc/reduce/bad.yaml", key "resolutions[1]": expected a whole number and a unit s, m, h, d or w');
    const r2 = await s.run(["copy", "-p", s.host("bad2.yaml", CONFIG.replace("depth: [max]", "depth: [median]")), "/etc/reduce/bad2.yaml"]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('key "aggregations.depth[0]": expected one of avg, min, max, count, sum, first, last, got "median"');
    expect(await latestLogVersion(s.pondDir)).toBe(before);
    expect((await s.run(["list", "/etc/**"])).stdout).toBe("");
    // With no config at all, pond reduce says where configs go.
    const none = await s.run(["reduce"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("No reduction configs under /etc/reduce/");
  });

  test("full run, then an incremental run with late data: one row per bucket, known values, one version per output", async () => {
    const s = await setup();
    await s.ok(["copy", "-p", s.host("lake.yaml", CONFIG), "/etc/reduce/lake.yaml"]);

    const before = await latestLogVersion(s.pondDir);
    const dry = await s.ok(["reduce", "--dry-run"]);
    expect(dry.stdout).toContain("/etc/reduce/lake.yaml: /st/lake.series -> /reduced/lake/res=1h.series: would run full: all 1 input version(s)");
    expect(await latestLogVersion(s.pondDir)).toBe(before);

    const first = await s.ok(["reduce"]);
    expect(first.stdout).toContain("/reduced/lake/res=1h.series: full: read 1 of 1 input version(s), wrote 24 bucket(s) as v1");
    expect(first.stdout).toMatch(/\/etc\/reduce\/lake\.yaml: 3 output\(s\) \(3 full\), transaction \d+/);
    const h5 = (await rows(s.ok, "/reduced/lake/res=1h.series"))[5]!;
    expect(h5).toEqual({
      timestamp: "2025-01-06 05:00:00+00",
      "temp.avg": 329.5,
      "temp.min": 300,
      "temp.max": 359,
      "temp.count": 60,
      "temp.sum": 19770,
      "temp.first": 300,
      "temp.last": 359,
      "depth.max": 6,
    });

    // Day 2 (reversed: out of order), plus a late reading in hour 3 of day 1 and two readings again
    // at day 1's 03:00 and 03:59 (at a tied time, first takes the smaller value, last the larger).
    const late: [number, number, number][] = [
      [183.5, 10000, 0],
      [180, -5, 0],
      [239, 99999, 0],
    ];
    await s.ok(["copy", s.host("day2.csv", csv([...minutes(1440, 2880), ...late].reverse())).replace("host:", "host+series+csv:"), "/st/lake.series"]);
    const second = await s.ok(["reduce", "lake"]);
    expect(second.stdout).toContain("/reduced/lake/res=1h.series: incremental: read 2 of 2 input version(s), wrote 25 bucket(s) as v2");
    expect(second.stdout).toContain("/reduced/lake/res=1d.series: incremental: read 2 of 2 input version(s), wrote 2 bucket(s) as v2");
    expect(second.stdout).toContain("/reduced/lake/res=7d.series: incremental: read 2 of 2 input version(s), wrote 1 bucket(s) as v2");

    const hours = await rows(s.ok, "/reduced/lake/res=1h.series");
    expect(hours.length).toBe(48);
    expect(new Set(hours.map((h) => h.timestamp)).size).toBe(48);
    const sum3 = 180 * 60 + 1770 + 10000 - 5 + 99999;
    expect(hours[3]).toEqual({
      timestamp: "2025-01-06 03:00:00+00",
      "temp.avg": sum3 / 63,
      "temp.min": -5,
      "temp.max": 99999,
      "temp.count": 63,
      "temp.sum": sum3,
      "temp.first": -5,
      "temp.last": 99999,
      "depth.max": 6,
    });
    expect(hours[20]).toMatchObject({ "temp.count": 60, "temp.first": 1200, "temp.last": 1259 });
    expect(hours[25]).toMatchObject({ timestamp: "2025-01-07 01:00:00+00", "temp.count": 60, "temp.min": 1500, "temp.max": 1559 });
    const days = await rows(s.ok, "/reduced/lake/res=1d.series");
    expect(days.map((d) => [d.timestamp, d["temp.count"]])).toEqual([
      ["2025-01-06 00:00:00+00", 1443],
      ["2025-01-07 00:00:00+00", 1440],
    ]);
    const week = await rows(s.ok, "/reduced/lake/res=7d.series");
    expect(week).toHaveLength(1);
    expect(week[0]).toMatchObject({ timestamp: "2025-01-06 00:00:00+00", "temp.count": 2883, "temp.min": -5, "temp.max": 99999 });
    // The version the run appended holds only the buckets it recomputed.
    expect(await rows(s.ok, "/reduced/lake/res=1h.series", ["--version", "2"])).toHaveLength(25);
    // SQL over the output sees one row per bucket too.
    const q = await s.ok(["query", "SELECT count(*) AS n, count(DISTINCT timestamp) AS d FROM '/reduced/lake/res=1h.series'", "--format", "csv"]);
    expect(q.stdout).toBe("n,d\n48,48\n");

    // Nothing new: up to date, nothing written; --format json.
    const at = await latestLogVersion(s.pondDir);
    const third = await s.ok(["reduce", "/etc/reduce/lake.yaml", "--format", "json"]);
    const js = JSON.parse(third.stdout) as { file: string; ok: boolean; outputs: { mode: string }[] }[];
    expect(js[0]!.file).toBe("/etc/reduce/lake.yaml");
    expect(js[0]!.outputs.map((o) => o.mode)).toEqual(["up to date", "up to date", "up to date"]);
    expect(await latestLogVersion(s.pondDir)).toBe(at);
  }, 60_000);

  test("a changed config replaces the outputs with a full recompute; a config checked on use names the problem", async () => {
    const s = await setup();
    await s.ok(["copy", "-p", s.host("lake.yaml", CONFIG), "/etc/reduce/lake.yaml"]);
    await s.ok(["reduce"]);
    await s.ok(["copy", s.host("lake2.yaml", CONFIG.replace("depth: [max]", "depth: [max, min]")), "/etc/reduce/lake.yaml"]);
    const r = await s.ok(["reduce"]);
    expect(r.stdout).toContain(
      "/reduced/lake/res=1d.series: replace (the config or the input's columns changed): read 1 of 1 input version(s), wrote 1 bucket(s) as v1",
    );
    const day = (await rows(s.ok, "/reduced/lake/res=1d.series"))[0]!;
    expect(day["depth.min"]).toBe(0);
    // A second config writing the same outputs is refused, naming the owner; the first still works.
    await s.ok(["copy", s.host("other.yaml", CONFIG), "/etc/reduce/other.yaml"]);
    const both = await s.run(["reduce"]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('Reduction "/etc/reduce/other.yaml": "/reduced/lake/res=1h.series" is written by another config, "/etc/reduce/lake.yaml"');
    expect(both.stdout).toContain("/etc/reduce/other.yaml: FAILED, nothing written");
    expect(both.stdout).toContain("/etc/reduce/lake.yaml: 3 output(s) (3 up to date), nothing written");
    // avg of a text column is refused at use, naming the key.
    await s.ok(["rm", "/etc/reduce/other.yaml"]);
    await s.ok(["copy", s.host("t.csv", "timestamp,site\n2025-01-01T00:00:00Z,a\n").replace("host:", "host+series+csv:"), "/st/text.series"]);
    await s.ok(["copy", s.host("text.yaml", "in: /st/text.series\nout: /rt\nresolutions: [1h]\naggregations: {site: [avg]}\n"), "/etc/reduce/text.yaml"]);
    const bad = await s.run(["reduce", "text"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('key "aggregations.site": avg needs a numeric column; "site" of "/st/text.series" is VARCHAR');
  }, 60_000);

  test("pond reduce --help shows the config keys and flags", async () => {
    const r = await pondOk(["reduce", "--help"]);
    for (const s of ["--dry-run", "--format", "resolutions", "aggregations", "lateness"]) expect(r.stdout).toContain(s);
  });

  test("pond collect --then-reduce reduces what the collectors stored", async () => {
    const p = await newPond();
    const fake = new FakeHydroVu([generateLocation(101, "A", { start: 1_700_000_000, count: 40 })], { pageSize: 100 });
    cleanups.push(p.cleanup, () => fake.stop());
    const yaml = `kind: hydrovu\nclient_id: \${env:HV_ID}\nclient_secret: \${env:HV_SECRET}\nbase_url: ${fake.url}\ndestination: /data/hv\ndevices:\n  - {id: 101, name: A}\n`;
    writeFileSync(join(p.dir, "hv.yaml"), yaml);
    writeFileSync(join(p.dir, "r.yaml"), "in: /data/hv/*.series\nout: /reduced\nresolutions: [1d]\naggregations: [count]\n");
    await pondOk(["copy", "-p", `host://${join(p.dir, "hv.yaml")}`, "/etc/collect/hv.yaml"], { pond: p.pondDir });
    await pondOk(["copy", "-p", `host://${join(p.dir, "r.yaml")}`, "/etc/reduce/r.yaml"], { pond: p.pondDir });
    const r = await pondOk(["collect", "--then-reduce"], { pond: p.pondDir, env: { HV_ID: "fake-id", HV_SECRET: "fake-secret" } });
    expect(r.stdout).toContain("/etc/collect/hv.yaml: hydrovu: 40 rows added");
    expect(r.stdout).toContain("/data/hv/A.series -> /reduced/A/res=1d.series: full");
    // Each parameter's readings, counted per day and summed, are the readings the series holds.
    const total = async (sql: string) =>
      (await pondOk(["query", sql, "--format", "csv"], { pond: p.pondDir })).stdout
        .trim()
        .split("\n")[1]!
        .split(",")
        .reduce((a, b) => a + Number(b), 0);
    const reduced = await total("SELECT sum(COLUMNS('\\.count$'))::BIGINT FROM '/reduced/A/res=1d.series'");
    expect(reduced).toBe(await total("SELECT count(COLUMNS(* EXCLUDE (timestamp))) FROM '/data/hv/A.series'"));
    expect(reduced).toBeGreaterThanOrEqual(40);
  }, 60_000);
});
