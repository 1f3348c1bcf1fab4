import { afterEach, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, POND_BIN, latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

const YSI = join(FIXTURES, "timeseries/twdb-sonde/BAYT_20070323_CDT_YS1772AA_000.csv");
const RDB = join(FIXTURES, "timeseries/usgs-dataRetrieval-R/RDB1Example.txt");
const INSITU = join(FIXTURES, "timeseries/ross-poudre-sonde/prospect-Depth_head_6hr.csv");

const LAKETECH_HEADER = 'Timestamp,"Series Name",Location,Parameter,Value,Offset';

/** A LakeTech export of `n` quarter hours from `day` (2024-05-DD), two buoys. */
function laketech(day: number, n: number): string {
  const lines = [LAKETECH_HEADER];
  for (let i = 0; i < n; i++) {
    const t = new Date(Date.UTC(2024, 4, day, 0, 15 * i)).toISOString().replace("T", " ").slice(0, 19);
    lines.push(`${t},Buoy 1,North,Temperature,${10 + i / 4},0.5`, `${t},Buoy 2,South,DO,${8 + i / 8},`);
  }
  return lines.join("\n") + "\n";
}

interface Inbox {
  pondDir: string;
  dir: string;
  inbox: string;
  /** Adds /etc/collect/NAME.yaml with these keys (YAML lines). */
  config(name: string, yaml: string): Promise<void>;
  run(args?: string[]): ReturnType<typeof pond>;
}

async function setup(): Promise<Inbox> {
  const p = await newPond();
  cleanups.push(p.cleanup);
  const inbox = join(p.dir, "inbox");
  mkdirSync(inbox);
  return {
    ...p,
    inbox,
    async config(name, yaml) {
      writeFileSync(join(p.dir, `${name}.yaml`), yaml);
      await pondOk(["copy", "-p", `host://${join(p.dir, `${name}.yaml`)}`, `/etc/collect/${name}.yaml`], { pond: p.pondDir });
    },
    run: (args = []) => pond(["collect", ...args], { pond: p.pondDir }),
  };
}

/** Name, size, mtime and bytes of every file in a host folder: what "never modified" compares. */
function folderState(dir: string): string {
  return readdirSync(dir)
    .sort()
    .map((n) => {
      const st = statSync(join(dir, n));
      return `${n} ${st.size} ${st.mtimeMs} ${Bun.hash(readFileSync(join(dir, n)))}`;
    })
    .join("\n");
}

async function describeJson(pondDir: string, path: string) {
  return JSON.parse((await pondOk(["describe", path, "--format", "json"], { pond: pondDir })).stdout) as {
    schema: { rows: number; columns: { name: string; type: string }[] };
    versions: { version: number; rows: number; min_event_time: string; max_event_time: string }[];
  };
}

async function count(pondDir: string, sql: string): Promise<number> {
  return Number(JSON.parse((await pondOk(["query", sql, "--format", "jsonl"], { pond: pondDir })).stdout).n);
}

describe("kind: inbox", () => {
  test("each profile's fixture imports as pond copy --profile imports it; one failing config does not stop the others", async () => {
    const s = await setup();
    const cases: [string, string, string][] = [
      ["ysi", YSI, "/in/ysi.series"],
      ["usgs-rdb", RDB, "/in/usgs.series"],
      ["insitu", INSITU, "/in/insitu.series"],
    ];
    for (const [profile, file, dest] of cases) {
      const sub = join(s.inbox, profile);
      mkdirSync(sub);
      copyFileSync(file, join(sub, file.slice(file.lastIndexOf("/") + 1)));
      await s.config(profile, `kind: inbox\nfrom: ${sub}\nprofile: ${profile}\ndestination: ${dest}\n`);
      // The same file through pond copy, to compare with.
      await pondOk(["copy", "-p", `host+series+csv://${file}`, `/copied/${profile}.series`, "--profile", profile], { pond: s.pondDir });
    }
    mkdirSync(join(s.inbox, "lt"));
    writeFileSync(join(s.inbox, "lt", "day1.csv"), laketech(1, 8));
    await s.config("lt", `kind: inbox\nfrom: ${join(s.inbox, "lt")}\npattern: "*.csv"\nprofile: laketech\ndestination: /in/lt.series\n`);
    // A config whose folder is missing fails; the others still run.
    await s.config("zz-missing", `kind: inbox\nfrom: ${join(s.dir, "nope")}\nprofile: ysi\ndestination: /in/nope.series\n`);
    const before = folderState(join(s.inbox, "ysi")) + folderState(join(s.inbox, "usgs-rdb")) + folderState(join(s.inbox, "insitu"));

    const r = await s.run(["--format", "json"]);
    expect(r.code).toBe(1);
    const summaries = JSON.parse(r.stdout) as { file: string; ok: boolean; rowsAdded: number; files?: { imported: number } }[];
    expect(summaries.map((x) => [x.file, x.ok])).toEqual([
      ["/etc/collect/insitu.yaml", true],
      ["/etc/collect/lt.yaml", true],
      ["/etc/collect/usgs-rdb.yaml", true],
      ["/etc/collect/ysi.yaml", true],
      ["/etc/collect/zz-missing.yaml", false],
    ]);
    expect(r.stderr).toContain(`the inbox folder "${join(s.dir, "nope")}" does not exist`);
    for (const [profile, , dest] of cases) {
      const got = await describeJson(s.pondDir, dest);
      const want = await describeJson(s.pondDir, `/copied/${profile}.series`);
      expect(got.schema).toEqual(want.schema);
      expect(got.versions.map((v) => [v.rows, v.min_event_time, v.max_event_time])).toEqual(
        want.versions.map((v) => [v.rows, v.min_event_time, v.max_event_time]),
      );
      expect(got.versions.length).toBe(1);
      // Same rows, value for value.
      expect(await count(s.pondDir, `SELECT count(*)::INT AS n FROM (SELECT * FROM '${dest}' EXCEPT ALL SELECT * FROM '/copied/${profile}.series')`)).toBe(0);
      expect(summaries.find((x) => x.file === `/etc/collect/${profile}.yaml`)!.rowsAdded).toBe(want.schema.rows);
    }
    // Known answers from the files themselves (see test/collect-import.e2e.test.ts).
    expect((await describeJson(s.pondDir, "/in/ysi.series")).versions[0]!.min_event_time).toBe("2007-03-23T15:00:24Z");
    expect((await describeJson(s.pondDir, "/in/ysi.series")).schema.rows).toBe(readFileSync(YSI, "utf8").trim().split(/\r?\n/).length - 2);
    expect(await count(s.pondDir, `SELECT count(*)::INT AS n FROM '/in/lt.series' WHERE "Buoy 1.Temperature" = 9.5 AND "Buoy 2.DO" = 8`)).toBe(1);
    expect(folderState(join(s.inbox, "ysi")) + folderState(join(s.inbox, "usgs-rdb")) + folderState(join(s.inbox, "insitu"))).toBe(before);
  }, 60_000);

  test("a file is imported once: a rerun, a renamed file and a re-copied file add nothing; a new file adds one version", async () => {
    const s = await setup();
    const lt = join(s.inbox, "lt");
    mkdirSync(lt);
    writeFileSync(join(lt, "day1.csv"), laketech(1, 4));
    writeFileSync(join(lt, "day2.csv"), laketech(2, 4));
    writeFileSync(join(lt, "notes.txt"), "not an export\n");
    await s.config("lt", `kind: inbox\nfrom: ${lt}\npattern: "*.csv"\nprofile: laketech\ndestination: /lake/buoys.series\n`);

    const dry = await s.run(["--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`${join(lt, "day1.csv")} (`);
    expect(dry.stdout).toContain(`${join(lt, "day2.csv")} (`);
    expect(dry.stdout).not.toContain("notes.txt");
    expect((await pond(["describe", "/lake/buoys.series"], { pond: s.pondDir })).code).not.toBe(0);

    const r1 = await s.run();
    expect(r1.code).toBe(0);
    expect(r1.stdout).toMatch(
      /^\/etc\/collect\/lt\.yaml: inbox: 8 rows added in 2 versions, 2024-05-01T00:00:00Z \.\. 2024-05-02T00:45:00Z, 2 files imported, 0 skipped, 0 already imported, transaction \d+\n$/,
    );
    const seq = await latestLogVersion(s.pondDir);

    expect((await s.run()).stdout).toContain("0 rows added in 0 versions, 0 files imported, 0 skipped, 2 already imported");
    renameSync(join(lt, "day1.csv"), join(lt, "day1-renamed.csv"));
    copyFileSync(join(lt, "day2.csv"), join(lt, "day2 (copy).csv"));
    expect((await s.run()).stdout).toContain("0 files imported, 0 skipped, 3 already imported");
    expect(await latestLogVersion(s.pondDir)).toBe(seq);
    expect((await describeJson(s.pondDir, "/lake/buoys.series")).versions.length).toBe(2);

    writeFileSync(join(lt, "day3.csv"), laketech(3, 4));
    const dry2 = await s.run(["--dry-run"]);
    expect(dry2.stdout).toContain("day3.csv");
    expect(dry2.stdout).not.toContain("day1-renamed.csv");
    expect((await s.run()).stdout).toContain("4 rows added in 1 versions");
    const d = await describeJson(s.pondDir, "/lake/buoys.series");
    expect(d.versions.map((v) => v.rows)).toEqual([4, 4, 4]);
    expect(await count(s.pondDir, "SELECT count(DISTINCT timestamp)::INT AS n FROM '/lake/buoys.series'")).toBe(12);
    expect(await count(s.pondDir, "SELECT count(*)::INT AS n FROM '/lake/buoys.series'")).toBe(12);
    // `pond copy` of a file the inbox imported is a duplicate too (the same source hash).
    const again = await pondOk(["copy", `host+series+csv://${join(lt, "day3.csv")}`, "/lake/buoys.series", "--profile", "laketech"], { pond: s.pondDir });
    expect(again.stderr).toContain("already holds the same data");
    // Host files are only read: a run leaves the folder exactly as it was.
    const hostBefore = folderState(lt);
    expect((await s.run()).code).toBe(0);
    expect(folderState(lt)).toBe(hostBefore);
  }, 60_000);

  test("a file that fails to parse fails the run naming file and line, nothing written; on_error: skip records it and imports the rest", async () => {
    const s = await setup();
    const lt = join(s.inbox, "lt");
    mkdirSync(lt);
    writeFileSync(join(lt, "a.csv"), laketech(1, 4));
    const bad = laketech(2, 4).split("\n");
    bad[3] = bad[3]!.replace(/,Temperature,[^,]*,/, ",Temperature,twelve,"); // line 4: a Value that is not a number
    writeFileSync(join(lt, "b.csv"), bad.join("\n"));
    writeFileSync(join(lt, "c.csv"), laketech(3, 4));
    const yaml = `kind: inbox\nfrom: ${lt}\nprofile: laketech\ndestination: /lake/buoys.series\n`;
    await s.config("lt", yaml);
    const before = await latestLogVersion(s.pondDir);
    const state = folderState(lt);

    const r = await s.run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("/etc/collect/lt.yaml: inbox: FAILED, nothing written");
    expect(r.stderr).toContain(`file "${join(lt, "b.csv")}"`);
    expect(r.stderr).toContain("Line: 4");
    expect(r.stderr).toContain("on_error: skip");
    expect(await latestLogVersion(s.pondDir)).toBe(before);
    expect((await pond(["describe", "/lake/buoys.series"], { pond: s.pondDir })).code).not.toBe(0);

    await s.config("lt", yaml + "on_error: skip\n");
    const r2 = await s.run(["--format", "json"]);
    expect(r2.code).toBe(0);
    const j = JSON.parse(r2.stdout)[0];
    expect(j.files).toEqual({ imported: 2, skipped: 1, known: 0 });
    expect(j.notes[0]).toContain(`skipped "${join(lt, "b.csv")}"`);
    expect(j.notes[0]).toContain("Line: 4");
    expect((await describeJson(s.pondDir, "/lake/buoys.series")).versions.map((v) => v.rows)).toEqual([4, 4]);
    expect(folderState(lt)).toBe(state);
    const record = (await pondOk(["cat", "/lake/.buoys.series.skipped"], { pond: s.pondDir })).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(record).toHaveLength(1);
    expect(record[0]).toMatchObject({ file: join(lt, "b.csv"), sha256: new Bun.CryptoHasher("sha256").update(readFileSync(join(lt, "b.csv"))).digest("hex") });
    // The skipped file is not tried again; fixed (new content), it is imported.
    expect((await s.run()).stdout).toContain("0 files imported, 0 skipped, 3 already imported");
    writeFileSync(join(lt, "b.csv"), laketech(2, 4));
    // (the old b.csv is gone from the folder, so two files are known now)
    expect((await s.run()).stdout).toContain("1 files imported, 0 skipped, 2 already imported");
    expect((await describeJson(s.pondDir, "/lake/buoys.series")).versions.map((v) => v.rows)).toEqual([4, 4, 4]);
  }, 60_000);

  test("SIGKILL mid-run writes nothing; the next run imports every file exactly once", async () => {
    const s = await setup();
    const dir = join(s.inbox, "many");
    mkdirSync(dir);
    const n = 30;
    for (let i = 0; i < n; i++) {
      const rows = Array.from({ length: 5 }, (_, k) => `${new Date(Date.UTC(2024, 0, 1, i, k)).toISOString()},${i * 10 + k}`);
      writeFileSync(join(dir, `f${String(i).padStart(3, "0")}.csv`), `ts,v\n${rows.join("\n")}\n`);
    }
    await s.config("many", `kind: inbox\nfrom: ${dir}\nsql: SELECT ts AS timestamp, v::DOUBLE AS v FROM source\ndestination: /m/all.series\n`);
    const before = await latestLogVersion(s.pondDir);
    const staging = join(s.pondDir, "data", "_large_files");
    const p = Bun.spawn([POND_BIN, "collect"], { env: { ...process.env, POND: s.pondDir }, stdout: "ignore", stderr: "ignore" });
    // Kill it once it is converting files inside its transaction.
    let seen = 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const tmp = existsSync(staging) ? readdirSync(staging).filter((x) => x.startsWith(".tmp-inbox-")) : [];
      if (tmp.length > 0 && ++seen >= 3) break;
      await Bun.sleep(10);
    }
    expect(seen).toBeGreaterThanOrEqual(3);
    p.kill("SIGKILL");
    await p.exited;
    expect(await latestLogVersion(s.pondDir)).toBe(before);
    expect((await pond(["describe", "/m/all.series"], { pond: s.pondDir })).code).not.toBe(0);
    const r = await s.run();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${n * 5} rows added in ${n} versions`);
    expect(await count(s.pondDir, "SELECT count(*)::INT AS n FROM '/m/all.series'")).toBe(n * 5);
    expect(await count(s.pondDir, "SELECT count(DISTINCT v)::INT AS n FROM '/m/all.series'")).toBe(n * 5);
    expect((await s.run()).stdout).toContain(`0 files imported, 0 skipped, ${n} already imported`);
  }, 120_000);
});
