import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, newPond, pond, pondOk } from "./support/pond-cli.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
const P = () => ({ pond: ctx.pondDir });
beforeAll(async () => {
  ctx = await newPond();
});
afterAll(() => ctx.cleanup());

interface Described {
  schema: { columns: { name: string; type: string }[]; rows: number; timestampColumn: string };
  versions: { version: number; min_event_time: string; max_event_time: string; rows: number }[];
}

async function describeJson(path: string): Promise<Described> {
  return JSON.parse((await pondOk(["describe", path, "--format", "json"], P())).stdout) as Described;
}

function typeOf(d: Described, name: string): string | undefined {
  return d.schema.columns.find((c) => c.name === name)?.type;
}

describe("--profile imports instrument exports", () => {
  test("ysi: twdb-sonde's units row becomes column names, Date+Time in CDT (from the file name) becomes UTC", async () => {
    const file = join(FIXTURES, "timeseries/twdb-sonde/BAYT_20070323_CDT_YS1772AA_000.csv");
    await pondOk(["copy", "-p", `host+series+csv://${file}`, "/sonde/bayt.series", "--profile", "ysi"], P());
    const d = await describeJson("/sonde/bayt.series");
    const lines = readFileSync(file, "utf8").trim().split(/\r?\n/);
    expect(d.schema.rows).toBe(lines.length - 2);
    expect(d.schema.timestampColumn).toBe("timestamp");
    expect(d.schema.columns.map((c) => [c.name, c.type])).toEqual([
      ["timestamp", "TIMESTAMP WITH TIME ZONE"],
      ["Temp.C", "DOUBLE"],
      ["SpCond.mS/cm", "DOUBLE"],
      ["Depth.m", "DOUBLE"],
      ["ODO%.%", "DOUBLE"],
    ]);
    // "03/23/07","10:00:24" CDT (UTC−5) is 15:00:24Z; the last row "05/07/07","13:00:24" is 18:00:24Z.
    expect(lines[2]!.startsWith('"03/23/07","10:00:24"')).toBe(true);
    expect(lines.at(-1)!.startsWith('"05/07/07","13:00:24"')).toBe(true);
    expect(d.versions[0]!.min_event_time).toBe("2007-03-23T15:00:24Z");
    expect(d.versions[0]!.max_event_time).toBe("2007-05-07T18:00:24Z");
  });

  test("ysi with --timezone uses the named zone", async () => {
    const file = join(FIXTURES, "timeseries/twdb-sonde/BAYT_20070323_CDT_YS1772AA_000.csv");
    await pondOk(["copy", "-p", `host+series+csv://${file}`, "/sonde/bayt-utc.series", "--profile", "ysi", "--timezone", "UTC"], P());
    expect((await describeJson("/sonde/bayt-utc.series")).versions[0]!.min_event_time).toBe("2007-03-23T10:00:24Z");
  });

  test("usgs-rdb: the # preamble and the type row are read, n columns are DOUBLE, d columns TIMESTAMP", async () => {
    const file = join(FIXTURES, "timeseries/usgs-dataRetrieval-R/RDB1Example.txt");
    await pondOk(["copy", "-p", `host+series+csv://${file}`, "/usgs/chattooga.series", "--profile", "usgs-rdb"], P());
    const d = await describeJson("/usgs/chattooga.series");
    const data = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .slice(2);
    expect(d.schema.rows).toBe(data.length);
    expect(d.schema.timestampColumn).toBe("datetime");
    expect(typeOf(d, "datetime")).toBe("TIMESTAMP");
    expect(typeOf(d, "01_00060_00003")).toBe("DOUBLE");
    expect(typeOf(d, "site_no")).toBe("VARCHAR"); // 02177000 keeps its leading zero
    expect(d.versions[0]!.min_event_time).toBe(`${data[0]!.split("\t")[2]}T00:00:00Z`);
    expect(d.versions[0]!.max_event_time).toBe(`${data.at(-1)!.split("\t")[2]}T00:00:00Z`);
    const sum = await pondOk(
      ["query", "SELECT sum(\"01_00060_00003\")::BIGINT AS s, min(site_no) AS site FROM '/usgs/chattooga.series'", "--format", "jsonl"],
      P(),
    );
    expect(JSON.parse(sum.stdout)).toEqual({ s: data.reduce((a, l) => a + Number(l.split("\t")[3]), 0), site: "02177000" });
  });

  test("insitu: NA is null and the first …Z column is the event time", async () => {
    const file = join(FIXTURES, "timeseries/ross-poudre-sonde/prospect-Depth_head_6hr.csv");
    await pondOk(["copy", "-p", `host+series+csv://${file}`, "/poudre/prospect.series", "--profile", "insitu"], P());
    const d = await describeJson("/poudre/prospect.series");
    const rows = readFileSync(file, "utf8")
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((l) => l.split(","));
    expect(d.schema.rows).toBe(rows.length);
    expect(d.schema.timestampColumn).toBe("DT_round");
    expect(typeOf(d, "DT_round")).toBe("TIMESTAMP WITH TIME ZONE");
    expect(typeOf(d, "DT_join")).toBe("TIMESTAMP");
    expect(typeOf(d, "mean")).toBe("DOUBLE");
    const times = rows.map((r) => r[0]!).sort();
    expect(d.versions[0]!.min_event_time).toBe(times[0]!);
    expect(d.versions[0]!.max_event_time).toBe(times.at(-1)!);
    const nulls = await pondOk(["query", "SELECT count(*) FILTER (WHERE flag IS NULL)::INT AS n FROM '/poudre/prospect.series'", "--format", "jsonl"], P());
    expect(JSON.parse(nulls.stdout).n).toBe(rows.filter((r) => r[7] === "NA").length);
  });

  test("laketech: the long export pivots to <Series Name>.<Parameter> columns, Value − Offset", async () => {
    const csv = join(ctx.dir, "laketech.csv");
    writeFileSync(
      csv,
      [
        'Timestamp,"Series Name",Location,Parameter,Value,Offset',
        "2024-05-01 00:00:00,Buoy 1,North,Temperature,12.5,0.5",
        "2024-05-01 00:00:00,Buoy 1,North,DO,8.25,",
        "2024-05-01 00:15:00,Buoy 1,North,Temperature,12.75,0.5",
        "2024-05-01 00:15:00,Buoy 1,North,DO,8.5,",
        "2024-05-01 00:15:00,Buoy 2,South,Temperature,11,",
      ].join("\n") + "\n",
    );
    await pondOk(["copy", "-p", `host+series+csv://${csv}`, "/lake/buoys.series", "--profile", "laketech"], P());
    const r = await pondOk(
      [
        "query",
        'SELECT strftime(timestamp, \'%H:%M\') AS t, "Buoy 1.Temperature" AS a, "Buoy 1.DO" AS b, "Buoy 2.Temperature" AS c FROM \'/lake/buoys.series\' ORDER BY t',
        "--format",
        "jsonl",
      ],
      P(),
    );
    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { t: "00:00", a: 12, b: 8.25, c: null },
      { t: "00:15", a: 12.25, b: 8.5, c: 11 },
    ]);
  });

  test("an export that does not fit its profile is refused naming the file, and nothing is stored", async () => {
    const file = join(FIXTURES, "timeseries/usgs-dataRetrieval-R/RDB1Example.txt");
    const r = await pond(["copy", "-p", `host+series+csv://${file}`, "/bad/x.series", "--profile", "ysi"], P());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("does not look like a YSI export");
    expect((await pond(["describe", "/bad/x.series"], P())).code).not.toBe(0);
  });

  test("a YSI export whose name names no zone, without --timezone, is a usage error (exit 2) and stores nothing", async () => {
    const file = join(ctx.dir, "bayt.csv");
    copyFileSync(join(FIXTURES, "timeseries/twdb-sonde/BAYT_20070323_CDT_YS1772AA_000.csv"), file);
    const r = await pond(["copy", "-p", `host+series+csv://${file}`, "/nozone/x.series", "--profile", "ysi"], P());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("a YSI export's times have no zone");
    expect(r.stderr).toContain("--timezone");
    expect((await pond(["describe", "/nozone/x.series"], P())).code).not.toBe(0);
  });
});

describe("--sql reshapes a CSV before it is stored", () => {
  test("rename and convert units, for series and tables", async () => {
    const csv = join(ctx.dir, "f.csv");
    writeFileSync(csv, "when,temp_f\n2024-01-01T00:00:00Z,32\n2024-01-01T01:00:00Z,212\n");
    const sql = 'SELECT "when" AS timestamp, round((temp_f - 32) * 5 / 9, 3) AS temp_c FROM source';
    await pondOk(["copy", `host+series+csv://${csv}`, "/conv.series", "--sql", sql], P());
    const r = await pondOk(["query", "SELECT temp_c FROM '/conv.series' ORDER BY timestamp", "--format", "csv"], P());
    expect(r.stdout).toBe("temp_c\n0.0\n100.0\n");
    await pondOk(["copy", `host+csv://${csv}`, "/conv.table", "--sql", "SELECT count(*)::INT AS n FROM source"], P());
    expect((await pondOk(["cat", "/conv.table", "--format", "csv"], P())).stdout).toBe("n\n2\n");
  });

  test("a query that is not one SELECT, or reads files, is refused and stores nothing", async () => {
    const csv = join(ctx.dir, "g.csv");
    writeFileSync(csv, "timestamp,v\n2024-01-01T00:00:00Z,1\n");
    for (const sql of ["DELETE FROM source", `SELECT * FROM read_csv('${join(FIXTURES, "timeseries/twdb-sonde/BAYT_20070323_CDT_YS1772AA_000.csv")}')`]) {
      const r = await pond(["copy", `host+series+csv://${csv}`, "/g.series", "--sql", sql], P());
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--sql over");
    }
    expect((await pond(["describe", "/g.series"], P())).code).not.toBe(0);
  });
});

describe("re-running an import", () => {
  test("an identical payload is skipped with a note and exit 0; --allow-duplicate appends it", async () => {
    const csv = join(ctx.dir, "d.csv");
    writeFileSync(csv, "timestamp,v\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n");
    await pondOk(["copy", `host+series+csv://${csv}`, "/dup.series"], P());
    const again = await pondOk(["copy", `host+series+csv://${csv}`, "/dup.series"], P());
    expect(again.stderr).toContain('skipped "host+series+csv://');
    expect(again.stderr).toContain("/dup.series version 1 already holds the same data");
    expect((await describeJson("/dup.series")).versions.length).toBe(1);
    await pondOk(["copy", `host+series+csv://${csv}`, "/dup.series", "--allow-duplicate"], P());
    expect((await describeJson("/dup.series")).versions.length).toBe(2);
    writeFileSync(csv, "timestamp,v\n2024-01-01T00:02:00Z,3\n");
    const fresh = await pondOk(["copy", `host+series+csv://${csv}`, "/dup.series"], P());
    expect(fresh.stderr).not.toContain("skipped");
    expect((await describeJson("/dup.series")).versions.length).toBe(3);
  });
});

describe("the duplicate check's hash prefixes (control/row-cache/<part>.series-hashes.json)", () => {
  test("a duplicate is still refused after `maintain full` merged the series and after the file is deleted; reads of the series never make it", async () => {
    const t = await newPond();
    try {
      const Q = { pond: t.pondDir };
      const rowCache = join(t.pondDir, "control/row-cache");
      const hashFiles = () => readdirSync(rowCache).filter((n) => n.endsWith(".series-hashes.json"));
      const csv = (i: number) => {
        const f = join(t.dir, `h${i}.csv`);
        writeFileSync(f, `timestamp,v\n2024-03-01T00:${String(i).padStart(2, "0")}:00Z,${i}\n2024-03-01T00:${String(i).padStart(2, "0")}:30Z,${i + 0.5}\n`);
        return f;
      };
      const versions = async () => (JSON.parse((await pondOk(["describe", "/h.series", "--format", "json"], Q)).stdout) as Described).versions.length;
      for (let i = 0; i < 6; i++) await pondOk(["copy", `host+series+csv://${csv(i)}`, "/h.series"], Q);
      await pondOk(["maintain", "full", "--keep-last", "1", "--retention", "0s"], Q);
      expect((await pondOk(["log"], Q)).stdout).toContain("merged /h.series versions");
      const refused = async (i: number) => {
        const again = await pondOk(["copy", `host+series+csv://${join(t.dir, `h${i}.csv`)}`, "/h.series"], Q);
        expect(again.stderr).toContain(`/h.series version ${i + 1} already holds the same data`);
      };
      // Versions 1 and 3 now live in a merged file: their recorded source hashes still match.
      await refused(0);
      await refused(2);
      expect(await versions()).toBe(6);
      expect(hashFiles().length).toBe(1);
      // Deleted: whole-series reads, a time range, list -l and describe neither need nor make it.
      for (const f of hashFiles()) rmSync(join(rowCache, f));
      await pondOk(["cat", "/h.series", "--sql", "SELECT count(*) FROM source"], Q);
      await pondOk(
        ["cat", "/h.series", "--sql", "SELECT count(*) FROM source", "--time-start", "2024-03-01T00:02:00Z", "--time-end", "2024-03-01T00:03:00Z"],
        Q,
      );
      await pondOk(["list", "-l", "/h.series"], Q);
      await pondOk(["copy", `host+series+csv://${csv(6)}`, "/h.series", "--allow-duplicate"], Q);
      expect(hashFiles()).toEqual([]);
      // The next duplicate check rebuilds it from the rows, and refuses the duplicate.
      await refused(4);
      await refused(6);
      expect(hashFiles().length).toBe(1);
      expect(await versions()).toBe(7);
      const fresh = await pondOk(["copy", `host+series+csv://${csv(7)}`, "/h.series"], Q);
      expect(fresh.stderr).not.toContain("skipped");
      expect(await versions()).toBe(8);
    } finally {
      t.cleanup();
    }
  }, 120_000);
});
