import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
const P = () => ({ pond: ctx.pondDir });
/** Temp files left in the pond's large-file folder. */
const leftovers = () => readdirSync(join(ctx.pondDir, "data", "_large_files")).filter((f) => f.startsWith(".tmp-"));
const h = (name: string) => join(ctx.dir, name);

beforeAll(async () => {
  ctx = await newPond();
});
afterAll(() => ctx.cleanup());

async function jsonRows(args: string[], opts = P()): Promise<Record<string, unknown>[]> {
  return JSON.parse((await pondOk([...args, "--format", "json"], opts)).stdout);
}

/** Parquet fixtures written by many writers, with their row counts read by DuckDB elsewhere. */
const parquetFiles = [
  ...readdirSync(join(FIXTURES, "parquet/duckdb")).map((f) => join(FIXTURES, "parquet/duckdb", f)),
  ...readdirSync(join(FIXTURES, "parquet/parquet-testing/data"))
    .filter((f) => f.endsWith(".parquet"))
    .map((f) => join(FIXTURES, "parquet/parquet-testing/data", f)),
];

describe("Parquet tables", () => {
  test(`every Parquet fixture (${parquetFiles.length}) stores as a table and reads back the same rows as the original`, async () => {
    expect(parquetFiles.length).toBeGreaterThanOrEqual(25);
    await pondOk(["mkdir", "/pq"], P());
    await pondOk(["copy", ...parquetFiles.map((f) => `host+table://${f}`), "/pq"], P());
    for (const f of parquetFiles) {
      const name = f.slice(f.lastIndexOf("/") + 1);
      const stored = await pondOk(["cat", `/pq/${name}`, "--format", "jsonl"], P());
      const original = await pondOk(["cat", `host+table://${f}`, "--format", "jsonl"]);
      expect({ name, out: stored.stdout }).toEqual({ name, out: original.stdout });
      expect(stored.stdout.length).toBeGreaterThan(0);
      // The stored payload is the file itself, byte for byte.
      const bytes = (await pondOk(["cat", `/pq/${name}`, "--format", "parquet"], P())).stdoutBytes;
      expect(Buffer.compare(Buffer.from(bytes), readFileSync(f))).toBe(0);
    }
  }, 120_000);

  test("delta_binary_packed.parquet gives the values of delta_binary_packed_expect.csv", async () => {
    const dir = join(FIXTURES, "parquet/parquet-testing/data");
    const ours = (await pondOk(["cat", "/pq/delta_binary_packed.parquet", "--format", "csv"], P())).stdout;
    const expected = (await pondOk(["cat", `host+csv://${dir}/delta_binary_packed_expect.csv`, "--format", "csv"])).stdout;
    expect(ours.split("\n").length).toBe(202);
    expect(ours).toBe(expected);
  });

  test("a file that is not Parquet is refused, names PAR1 and host:///, and changes nothing", async () => {
    writeFileSync(h("not.parquet"), "a,b\n1,2\n");
    const before = await latestLogVersion(ctx.pondDir);
    const r = await pond(["copy", `host+table://${h("not.parquet")}`, "/t"], P());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("PAR1");
    expect(r.stderr).toContain("host:///");
    expect(await latestLogVersion(ctx.pondDir)).toBe(before);
  });

  test("a truncated Parquet file is refused with a clear error", async () => {
    const src = readFileSync(parquetFiles[0]!);
    writeFileSync(h("trunc.parquet"), Buffer.concat([src.subarray(0, 20), src.subarray(src.length - 8)]));
    const r = await pond(["copy", `host+table://${h("trunc.parquet")}`, "/trunc"], P());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("trunc.parquet");
  });

  test("copying onto a table adds a version; --version and --as-of read the old one", async () => {
    writeFileSync(h("t1.csv"), "k,v\n1,a\n");
    writeFileSync(h("t2.csv"), "k,v\n1,a\n2,b\n");
    await pondOk(["copy", `host+csv://${h("t1.csv")}`, "/kv.table"], P());
    const seq = await latestLogVersion(ctx.pondDir);
    await pondOk(["copy", `host+csv://${h("t2.csv")}`, "/kv.table"], P());
    expect((await jsonRows(["cat", "/kv.table"])).length).toBe(2);
    expect((await jsonRows(["cat", "/kv.table", "--version", "1"])).length).toBe(1);
    expect((await jsonRows(["cat", "/kv.table", "--as-of", String(seq)])).length).toBe(1);
    const d = JSON.parse((await pondOk(["describe", "/kv.table", "--format", "json"], P())).stdout);
    expect(d.type).toBe("file:table");
    expect(d.schema).toEqual({
      columns: [
        { name: "k", type: "BIGINT" },
        { name: "v", type: "VARCHAR" },
      ],
      rows: 2,
    });
    expect(d.versions.map((v: { rows: number }) => v.rows)).toEqual([1, 2]);
  });

  test("writing a table over a data file is refused (the type never changes silently)", async () => {
    writeFileSync(h("raw.txt"), "raw");
    await pondOk(["copy", `host://${h("raw.txt")}`, "/raw.txt"], P());
    const r = await pond(["copy", `host+csv://${h("t1.csv")}`, "/raw.txt"], P());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("file:data");
  });
});

describe("CSV", () => {
  const spectrum = join(FIXTURES, "csv-edge/csv-spectrum");
  for (const f of readdirSync(spectrum).filter((f) => f.endsWith(".csv"))) {
    test(`csv-spectrum ${f} yields the values of its .expected.json`, async () => {
      const parsed = JSON.parse(readFileSync(join(spectrum, f.replace(".csv", ".expected.json")), "utf8")) as Record<string, string>[] | Record<string, string>;
      // One case's JSON is a single object rather than an array of one.
      const expected = Array.isArray(parsed) ? parsed : [parsed];
      await pondOk(["copy", `host+csv://${join(spectrum, f)}`, `/spectrum-${f}`], P());
      const rows = await jsonRows(["cat", `/spectrum-${f}`]);
      const asText = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? "" : String(v)])));
      if (f === "location_coordinates.csv") {
        // csv-spectrum's own JSON disagrees with its CSV on the phone number: the CSV's
        // bytes say 2095257564, the JSON 1234567890. Every other value must match.
        expect(readFileSync(join(spectrum, f), "utf8")).toContain("2095257564");
        expected[0]!["Contact Phone Number"] = "2095257564";
      }
      expect(asText).toEqual(expected);
    });
  }

  test("seattle-weather.csv: 1461 rows, daily 2012-01-01…2015-12-31", async () => {
    await pondOk(["copy", `host+csv://${join(FIXTURES, "timeseries/vega-datasets/seattle-weather.csv")}`, "/weather.table"], P());
    const r = await jsonRows(["cat", "/weather.table", "--sql", "SELECT count(*)::INT AS n, min(date)::VARCHAR AS lo, max(date)::VARCHAR AS hi FROM source"]);
    expect(r).toEqual([{ n: 1461, lo: "2012-01-01", hi: "2015-12-31" }]);
  });

  /** Each csv-edge/duckdb and sensor export file: imported (with what it gives) or refused (with why). */
  const outcomes: [string, "imports" | "refused", string, (rows: Record<string, unknown>[], err: string) => void][] = [
    ["csv-edge/duckdb/auto__backslash_escape.csv", "imports", "backslash escapes sniffed", (r) => expect(r[1]!.column2).toBe('text"2"')],
    [
      "csv-edge/duckdb/auto__duplicate_header_columns.csv",
      "imports",
      "duplicate names get suffixes",
      (r) => expect(Object.keys(r[0]!).slice(0, 3)).toEqual(["a", "a_1", "a_2"]),
    ],
    [
      "csv-edge/duckdb/auto__empty_header.csv",
      "imports",
      "empty header names become columnN",
      (r) => expect(Object.keys(r[0]!)).toEqual(["column0", "column1", "column2"]),
    ],
    [
      "csv-edge/duckdb/auto__semicolon_quote.csv",
      "imports",
      "semicolon delimiter sniffed",
      (r) => expect(r[0]).toEqual({ column0: 123, column1: "TEST10", column2: "text1" }),
    ],
    ["csv-edge/duckdb/auto__utf8bom.csv", "imports", "the BOM is not part of the first name", (r) => expect(r[0]).toEqual({ id: 1, name: "Mark" })],
    [
      "csv-edge/duckdb/comments__simple.csv",
      "imports",
      "comment lines skipped",
      (r) =>
        expect(r).toEqual([
          { a: 1, b: 3 },
          { a: 6, b: 7 },
        ]),
    ],
    ["csv-edge/duckdb/empty.csv", "refused", "an empty file has no header and no rows", (_r, e) => expect(e).toContain("empty")],
    ["csv-edge/duckdb/header_only.csv", "imports", "a header with no rows is an empty table", (r) => expect(r).toEqual([])],
    ["csv-edge/duckdb/people.csv", "imports", "plain", (r) => expect(r[0]).toEqual({ Person: "Anna Andreadi", Region: "West" })],
    ["csv-edge/duckdb/quoted_newline.csv", "imports", "a newline inside quotes stays in the value", (r) => expect(r[0]!.col1).toBe("cell with\nnewline")],
    ["csv-edge/duckdb/timestamp_timezone.csv", "imports", "offsets become TIMESTAMPTZ, shown in UTC", (r) => expect(r[1]!.time).toBe("2020-01-01 08:00:00+00")],
    ["timeseries/vega-datasets/seattle-weather-hourly-normals.csv", "imports", "8759 hourly rows", (r) => expect(r.length).toBe(8759)],
    ["timeseries/vega-datasets/co2-concentration.csv", "imports", "a header with a space", (r) => expect(Object.keys(r[0]!)).toContain("adjusted CO2")],
    [
      "timeseries/vega-datasets/global-temp.csv",
      "imports",
      "a year-only time column reads as a number",
      (r) => expect(r[0]).toEqual({ year: 1880, temp: -0.17 }),
    ],
    [
      "timeseries/ross-poudre-sonde/prospect-Depth_head_6hr.csv",
      "imports",
      "mixed …Z and naive times: DT_round has offsets (TIMESTAMPTZ), DT_join none",
      (r) => expect(typeof r[0]!.DT_round).toBe("string"),
    ],
    [
      "timeseries/twdb-sonde/BAYT_20070323_CDT_YS1772AA_000.csv",
      "imports",
      "the units row under the header makes every column text; its first row holds the units",
      (r) => expect(r[0]).toMatchObject({ Date: "M/D/Y", Time: "hh:mm:ss", Temp: "C" }),
    ],
    [
      "timeseries/usgs-dataRetrieval-R/RDB1Example.txt",
      "imports",
      "the # preamble is skipped and the header kept; the RDB type-code row under it is the first row (every column text)",
      (r) => expect(r[0]).toMatchObject({ agency_cd: "5s", site_no: "15s" }),
    ],
    ["timeseries/usgs-dataRetrieval-R/infoTest.csv", "imports", "spaces after commas are kept in values", (r) => expect(r[0]!.staAbbrev).toBe(" sampleSite")],
  ];
  for (const [file, outcome, why, check] of outcomes) {
    test(`${file} ${outcome}: ${why}`, async () => {
      const dest = `/edge-${file.replaceAll("/", "_")}`;
      const r = await pond(["copy", `host+csv://${join(FIXTURES, file)}`, dest], P());
      if (outcome === "refused") {
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(file.slice(file.lastIndexOf("/") + 1));
        check([], r.stderr);
        expect(await pond(["cat", dest], P())).toMatchObject({ code: 1 });
      } else {
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        check(await jsonRows(["cat", dest]), "");
      }
    });
  }

  for (const [name, content, mention] of [
    ["ragged.csv", "a,b\n1,2\n3,4,5\n6,7\n", "Line: 3"],
    ["badquote.csv", 'a,b\n1,"x\n2,y\n', "Line: 2"],
    ["latin1.csv", Buffer.from("a,b\n1,caf\xe9\n", "latin1"), "utf-8"],
    // The sniffer falls back to one column of text (the header has no comma): converted
    // first, then checked, the one-column result is refused, not stored.
    ["header-delimiter.csv", "x;y\n1,2\n3,4\n5,6\n", "Expected Number of Columns: 2 Found: 1"],
    ["ragged-late.csv", `a,b\n${"1,2\n".repeat(30000)}3,4,5\n`, "Line: 30002"],
  ] as const) {
    test(`a CSV that cannot be read exactly (${name}) is refused with the line and reason, and nothing is stored`, async () => {
      writeFileSync(h(name), content);
      const before = await latestLogVersion(ctx.pondDir);
      const r = await pond(["copy", `host+csv://${h(name)}`, `/${name}`], P());
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(name);
      expect(r.stderr).toContain(mention);
      expect(await latestLogVersion(ctx.pondDir)).toBe(before);
      expect(leftovers()).toEqual([]);
    });
  }

  test("a CSV converted while the transaction opens leaves no temp file and no commit when the destination or the file is wrong", async () => {
    // Big enough that the conversion is still running when the destination is refused.
    writeFileSync(h("ahead.csv"), `a,b\n${Array.from({ length: 200000 }, (_, i) => `${i},row ${i}`).join("\n")}\n`);
    writeFileSync(h("ahead-bad.csv"), "a,b\n1,2\n3,4,5\n");
    writeFileSync(h("ahead.txt"), "raw");
    await pondOk(["copy", `host://${h("ahead.txt")}`, "/ahead-file"], P());
    await pondOk(["ln", "-s", "/ahead-loop", "/ahead-loop"], P());
    const before = await latestLogVersion(ctx.pondDir);
    for (const [src, dest, mention] of [
      // Resolving the destination fails before the conversion is taken: it is waited for and removed.
      ["ahead.csv", "/ahead-loop", "Too many levels of symbolic links"],
      ["ahead-bad.csv", "/ahead-loop", "Too many levels of symbolic links"],
      // Creating the file fails after the conversion: as before the overlap, with the file's error first.
      ["ahead.csv", "/ahead-file/t.table", "not a directory"],
      ["ahead.csv", "/no-such-folder/t.table", "no-such-folder"],
      ["ahead-bad.csv", "/no-such-folder/t.table", "Line: 3"],
      ["ahead-bad.csv", "/ahead-bad.table", "Line: 3"],
    ] as const) {
      const r = await pond(["copy", `host+csv://${h(src)}`, dest], P());
      expect({ src, dest, code: r.code, named: r.stderr.includes(mention) }).toEqual({ src, dest, code: 1, named: true });
      expect(leftovers()).toEqual([]);
    }
    expect(await latestLogVersion(ctx.pondDir)).toBe(before);
    await pondOk(["copy", `host+csv://${h("ahead.csv")}`, "/ahead.table"], P());
    expect((await pondOk(["cat", "/ahead.table", "--sql", "SELECT count(*) AS n, sum(a) AS s FROM source"], P())).stdout).toBe("n,s\n200000,19999900000\n");
    // The row count recorded is the one COPY reported writing.
    expect(JSON.parse((await pondOk(["describe", "/ahead.table", "--format", "json"], P())).stdout).schema.rows).toBe(200000);
    expect(leftovers()).toEqual([]);
  });

  test("a CSV of one column imports as one column (checked after its conversion)", async () => {
    writeFileSync(h("one.csv"), "v\n1\n2\n3\n");
    await pondOk(["copy", `host+csv://${h("one.csv")}`, "/one.table"], P());
    expect(await jsonRows(["cat", "/one.table"])).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }]);
    expect(leftovers()).toEqual([]);
  });

  test("a CSV's Parquet is written beside the large files and stored without a copy; no temp file is left", async () => {
    writeFileSync(h("adopt.csv"), "a,b\n" + Array.from({ length: 20000 }, (_, i) => `${i},row ${i}`).join("\n") + "\n");
    await pondOk(["copy", `host+csv://${h("adopt.csv")}`, "/adopt.table"], P());
    await pondOk(["copy", `host+csv://${h("adopt.csv")}`, "/adopt-again.table"], P()); // the same content: already stored
    expect(leftovers()).toEqual([]);
    expect((await pondOk(["cat", "/adopt-again.table", "--sql", "SELECT count(*) AS n, sum(a) AS s FROM source"], P())).stdout).toBe("n,s\n20000,199990000\n");
  });

  test("options for when sniffing is wrong: --delimiter, --no-header, --skip, --null-string, --timestamp-format, --timezone", async () => {
    writeFileSync(h("opts.csv"), "junk line\n1|NA|01/02/2026 03:04\n2|x|12/31/2026 23:00\n");
    await pondOk(
      [
        "copy",
        `host+csv://${h("opts.csv")}`,
        "/opts.table",
        "--delimiter",
        "|",
        "--no-header",
        "--skip",
        "1",
        "--null-string",
        "NA",
        "--timestamp-format",
        "%m/%d/%Y %H:%M",
        "--timezone",
        "America/Chicago",
      ],
      P(),
    );
    const rows = await jsonRows(["cat", "/opts.table"]);
    expect(rows).toEqual([
      { column0: 1, column1: null, column2: "2026-01-02 09:04:00+00" },
      { column0: 2, column1: "x", column2: "2027-01-01 05:00:00+00" },
    ]);
  });
});

describe("series", () => {
  test("several sources make several versions in one transaction; a later column is null in earlier rows", async () => {
    writeFileSync(h("s1.csv"), "timestamp,site,v\n2020-01-01T00:00:00Z,a,1\n2020-06-01T00:00:00Z,b,2\n");
    writeFileSync(h("s2.csv"), "timestamp,site,v,extra\n2021-01-01T00:00:00Z,a,3,x\n");
    const before = await latestLogVersion(ctx.pondDir);
    await pondOk(["copy", `host+series+csv://${h("s1.csv")}`, `host+series+csv://${h("s2.csv")}`, "/s.series"], P());
    expect(await latestLogVersion(ctx.pondDir)).toBe(before + 1);
    const rows = await jsonRows(["cat", "/s.series", "--sql", "SELECT site, v, extra FROM source ORDER BY v"]);
    expect(rows).toEqual([
      { site: "a", v: 1, extra: null },
      { site: "b", v: 2, extra: null },
      { site: "a", v: 3, extra: "x" },
    ]);
    const d = JSON.parse((await pondOk(["describe", "/s.series", "--format", "json"], P())).stdout);
    expect(d.schema.timestampColumn).toBe("timestamp");
    expect(d.schema.rows).toBe(3);
    expect(d.schema.columns.map((c: { name: string }) => c.name)).toEqual(["timestamp", "site", "v", "extra"]);
    expect(
      d.versions.map((v: { version: number; rows: number; min_event_time: string; max_event_time: string }) => [
        v.version,
        v.rows,
        v.min_event_time,
        v.max_event_time,
      ]),
    ).toEqual([
      [1, 2, "2020-01-01T00:00:00Z", "2020-06-01T00:00:00Z"],
      [2, 1, "2021-01-01T00:00:00Z", "2021-01-01T00:00:00Z"],
    ]);
  });

  test("a series appended one version a commit, as a collector does: its versions come from the row cache, with the same answers as from the entry files", async () => {
    // 40 commits put 40 entry files in /collector's partition: well past the row cache's threshold (8).
    await pondOk(["mkdir", "/collector"], P());
    for (let i = 0; i < 40; i++) {
      writeFileSync(h("c.csv"), `timestamp,v\n2023-01-${String(1 + (i % 28)).padStart(2, "0")}T${String(i % 24).padStart(2, "0")}:00:00Z,${i}\n`);
      await pondOk(["copy", `host+series+csv://${h("c.csv")}`, "/collector/c.series"], P());
    }
    const cacheDir = join(ctx.pondDir, "control", "row-cache");
    const answers = async () => [
      (await pondOk(["cat", "/collector/c.series", "--sql", "SELECT count(*) AS n, sum(v) AS s FROM source"], P())).stdout,
      (await pondOk(["cat", "/collector/c.series", "--time-start", "2023-01-05", "--time-end", "2023-01-07"], P())).stdout,
      (await pondOk(["describe", "/collector/c.series", "--format", "json"], P())).stdout,
    ];
    const cached = await answers();
    expect(cached[0]).toBe("n,s\n40,780\n");
    expect(readdirSync(cacheDir).some((f) => /\.jsonl?$/.test(f))).toBe(true); // a base, or (40 < 64 files) a journal only
    expect(JSON.parse(cached[2]!).versions).toHaveLength(40);
    rmSync(cacheDir, { recursive: true });
    expect(await answers()).toEqual(cached); // rebuilt from the entry files
    for (const f of readdirSync(cacheDir)) writeFileSync(join(cacheDir, f), "{ torn");
    expect(await answers()).toEqual(cached);
  }, 120_000);

  test("a collector's 70 commits: the folder's entry files are merged at 64, no version is lost, earlier versions still read, and recover keeps the merged-away files", async () => {
    const t = await newPond();
    const o = { pond: t.pondDir };
    try {
      await pondOk(["mkdir", "/station"], o);
      for (let i = 0; i < 70; i++) {
        writeFileSync(join(t.dir, "c.csv"), `timestamp,v\n2024-02-${String(1 + (i % 28)).padStart(2, "0")}T${String(i % 24).padStart(2, "0")}:00:00Z,${i}\n`);
        await pondOk(["copy", `host+series+csv://${join(t.dir, "c.csv")}`, "/station/c.series"], o);
      }
      // The commit that would have made the 64th entry file merged the older ones instead.
      const log = join(t.pondDir, "data", "_delta_log");
      const removes = readdirSync(log)
        .filter((f) => f.endsWith(".json"))
        .map(
          (f) =>
            readFileSync(join(log, f), "utf8")
              .split("\n")
              .filter((l) => l.startsWith('{"remove"')).length,
        );
      expect(removes.filter((n) => n > 0)).toEqual([63]);
      expect((await pondOk(["cat", "/station/c.series", "--sql", "SELECT count(*) AS n, sum(v) AS s FROM source"], o)).stdout).toBe("n,s\n70,2415\n");
      // Read as a Delta table by DuckDB, through the log's own reader: each version's row once, none twice.
      const delta = await pondOk(
        [
          "cat",
          `host+delta://${join(t.pondDir, "data")}`,
          "--sql",
          "SELECT count(*) AS n, count(DISTINCT version) AS d, max(version) AS m FROM source WHERE file_type = 'file:series'",
        ],
        o,
      );
      expect(delta.stdout).toBe("n,d,m\n70,70,70\n");
      const d = JSON.parse((await pondOk(["describe", "/station/c.series", "--format", "json"], o)).stdout);
      expect(d.versions.map((v: { version: number }) => v.version)).toEqual([...Array(70).keys()].map((i) => i + 1));
      // Each version still names the transaction that wrote it (the mkdir was 1, version k came with k + 1).
      expect(d.versions.map((v: { txn: number }) => v.txn)).toEqual([...Array(70).keys()].map((i) => i + 2));
      const asOf = async () =>
        (await pondOk(["cat", "/station/c.series", "--as-of", "11", "--sql", "SELECT count(*) AS n, max(v) AS m FROM source"], o)).stdout;
      expect(await asOf()).toBe("n,m\n10,9\n");
      const partFiles = () =>
        readdirSync(join(t.pondDir, "data"))
          .filter((f) => f.startsWith("part_id="))
          .flatMap((f) => readdirSync(join(t.pondDir, "data", f))).length;
      const before = partFiles();
      await pondOk(["recover"], o);
      expect(partFiles()).toBe(before);
      expect(await asOf()).toBe("n,m\n10,9\n");
      rmSync(join(t.pondDir, "control", "row-cache"), { recursive: true, force: true });
      rmSync(join(t.pondDir, "control", "snapshot-cache.json"), { force: true });
      expect((await pondOk(["describe", "/station/c.series", "--format", "json"], o)).stdout).toBe(JSON.stringify(d, null, 2) + "\n");
      // A backup carries the merged file and the merged-away ones: the restored pond answers the same, as of then too.
      const folder = join(t.dir, "usb");
      await pondOk(["remote", "add", "usb", `file://${folder}`], o);
      await pondOk(["push", "usb"], o);
      const restored = { pond: join(t.dir, "restored") };
      await pondOk(["restore", `file://${folder}`], restored);
      expect((await pondOk(["verify", "usb", "--deep"], o)).code).toBe(0);
      expect((await pondOk(["describe", "/station/c.series", "--format", "json"], restored)).stdout).toBe(JSON.stringify(d, null, 2) + "\n");
      expect((await pondOk(["cat", "/station/c.series", "--as-of", "11", "--sql", "SELECT count(*) AS n, max(v) AS m FROM source"], restored)).stdout).toBe(
        "n,m\n10,9\n",
      );
    } finally {
      t.cleanup();
    }
  }, 180_000);

  test("a series from Parquet, with --timestamp-column", async () => {
    writeFileSync(h("w.csv"), "when,reading\n2022-03-01 00:00:00,5\n");
    await pondOk(["copy", `host+csv://${h("w.csv")}`, "/tmp-w.table"], P());
    const pq = (await pondOk(["cat", "/tmp-w.table", "--format", "parquet"], P())).stdoutBytes;
    writeFileSync(h("w.parquet"), pq);
    await pondOk(["copy", `host+series://${h("w.parquet")}`, "/w.series", "--timestamp-column", "when"], P());
    const d = JSON.parse((await pondOk(["describe", "/w.series", "--format", "json"], P())).stdout);
    expect(d.versions[0].min_event_time).toBe("2022-03-01T00:00:00Z");
  });

  test("a series without a time column is refused with the columns it has", async () => {
    writeFileSync(h("nots.csv"), "site,value\na,1\n");
    const r = await pond(["copy", `host+series+csv://${h("nots.csv")}`, "/nots.series"], P());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("site, value");
    expect(r.stderr).toContain("--timestamp-column");
  });

  test("--time-start/--time-end keep [start, end) and never open versions outside the range", async () => {
    const t = await newPond();
    const o = { pond: t.pondDir };
    try {
      for (const y of [2020, 2021, 2022]) writeFileSync(join(t.dir, `${y}.csv`), `ts,v\n${y}-01-01T00:00:00Z,${y}1\n${y}-07-01T00:00:00Z,${y}2\n`);
      await pondOk(["copy", ...[2020, 2021, 2022].map((y) => `host+series+csv://${join(t.dir, `${y}.csv`)}`), "/r.series"], o);
      const all = await jsonRows(["cat", "/r.series", "--sql", "SELECT v FROM source ORDER BY v"], o);
      expect(all.map((r) => r.v)).toEqual([20201, 20202, 20211, 20212, 20221, 20222]);
      // Remove the payloads of the 2020 and 2022 versions: a range inside 2021 must not need them.
      const d = JSON.parse((await pondOk(["describe", "/r.series", "--format", "json"], o)).stdout);
      for (const v of [d.versions[0], d.versions[2]]) rmSync(join(t.pondDir, "data", "_large_files", `sha256=${v.sha256}`));
      const ranged = await jsonRows(
        ["cat", "/r.series", "--time-start", "2021-01-01", "--time-end", "2021-07-01T00:00:00Z", "--sql", "SELECT v FROM source"],
        o,
      );
      expect(ranged.map((r) => r.v)).toEqual([20211]);
      const epoch = await jsonRows(
        [
          "query",
          "SELECT count(*)::INT AS n FROM '/r.series'",
          "--time-start",
          String(Date.UTC(2021, 0, 1) / 1000),
          "--time-end",
          String(Date.UTC(2022, 0, 1) / 1000),
        ],
        o,
      );
      expect(epoch).toEqual([{ n: 2 }]);
      // Without the range the missing payloads are needed, and their absence is reported.
      const full = await pond(["cat", "/r.series"], o);
      expect(full.code).not.toBe(0);
    } finally {
      t.cleanup();
    }
  });
});

describe("cat without --sql reads small files without DuckDB, with DuckDB's text", () => {
  test("the rows of tables and series, whole and time-ranged, are byte-identical to DuckDB's", async () => {
    const t = await newPond();
    const o = { pond: t.pondDir };
    try {
      const csvs = ["seattle-weather.csv", "weather.csv", "co2-concentration.csv", "iowa-electricity.csv", "seattle-weather-hourly-normals.csv"];
      for (const f of csvs) await pondOk(["copy", `host+csv://${join(FIXTURES, "timeseries/vega-datasets", f)}`, `/${f}.table`], o);
      for (const y of [2020, 2021]) writeFileSync(join(t.dir, `${y}.csv`), `ts,v,note\n${y}-01-01T00:00:00.25Z,${y}.5,"a, b"\n${y}-07-01T12:00:00Z,-1e-7,\n`);
      await pondOk(["copy", ...[2020, 2021].map((y) => `host+series+csv://${join(t.dir, `${y}.csv`)}`), "/r.series"], o);
      const cases = [...csvs.map((f) => [`/${f}.table`]), ["/r.series"], ["/r.series", "--time-start", "2020-03-01", "--time-end", "2021-03-01"]];
      for (const args of cases) {
        for (const format of ["csv", "table"]) {
          const direct = await pondOk(["cat", ...args, "--format", format], { ...o, env: { POND_LOG: "debug" } });
          expect(direct.stderr).toContain("rows_read_directly");
          const duck = await pondOk(["cat", ...args, "--format", format, "--sql", "SELECT * FROM source"], o);
          expect({ args, format, out: direct.stdout }).toEqual({ args, format, out: duck.stdout });
          expect(direct.stdout.split("\n").length).toBeGreaterThan(2);
        }
      }
    } finally {
      t.cleanup();
    }
  }, 60_000);
});

describe("cat checks what it reads", () => {
  test("a small table whose payload was changed on disk: exit 4, naming the table and the file", async () => {
    const t = await newPond();
    const o = { pond: t.pondDir };
    try {
      await pondOk(["copy", `host+csv://${join(FIXTURES, "timeseries/vega-datasets/seattle-weather.csv")}`, "/w.table"], o);
      const d = JSON.parse((await pondOk(["describe", "/w.table", "--format", "json"], o)).stdout);
      const payload = join(t.pondDir, "data", "_large_files", `sha256=${d.versions[0].sha256}`);
      const bytes = readFileSync(payload);
      bytes[100] ^= 0x01;
      chmodSync(payload, 0o644);
      writeFileSync(payload, bytes);
      const r = await pond(["cat", "/w.table"], o);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`"/w.table" version 1`);
      expect(r.stderr).toContain(payload);
      expect(r.stdout).toBe("");
    } finally {
      t.cleanup();
    }
  });
});

describe("query", () => {
  test("quoted pond paths and globs are tables: a glob of series joined to a table", async () => {
    await pondOk(["mkdir", "/sensors"], P());
    writeFileSync(h("sa.csv"), "ts,site,temp\n2024-01-01T00:00:00Z,A,1.5\n2024-01-02T00:00:00Z,A,2.5\n");
    writeFileSync(h("sb.csv"), "ts,site,temp\n2024-01-01T00:00:00Z,B,10\n");
    writeFileSync(h("sites.csv"), "site,name\nA,Alpha\nB,Bravo\n");
    await pondOk(["copy", `host+series+csv://${h("sa.csv")}`, "/sensors/a.series"], P());
    await pondOk(["copy", `host+series+csv://${h("sb.csv")}`, "/sensors/b.series"], P());
    await pondOk(["copy", `host+csv://${h("sites.csv")}`, "/sites.table"], P());
    const rows = await jsonRows([
      "query",
      "SELECT name, avg(temp) AS t, count(*)::INT AS n FROM '/sensors/*.series' s JOIN '/sites.table' USING (site) GROUP BY name ORDER BY name",
    ]);
    expect(rows).toEqual([
      { name: "Alpha", t: 2, n: 2 },
      { name: "Bravo", t: 10, n: 1 },
    ]);
    const viaAlias = await jsonRows(["sql", "SELECT count(*)::INT AS n FROM '/sensors/a.series'"]);
    expect(viaAlias).toEqual([{ n: 2 }]);
  });

  test("output formats: csv when piped, table, json, jsonl, parquet", async () => {
    const sql = "SELECT name FROM '/sites.table' ORDER BY name";
    expect((await pondOk(["query", sql], P())).stdout).toBe("name\nAlpha\nBravo\n");
    expect((await pondOk(["query", sql, "--format", "jsonl"], P())).stdout).toBe('{"name":"Alpha"}\n{"name":"Bravo"}\n');
    const table = (await pondOk(["query", sql, "--format", "table"], P())).stdout;
    expect(table).toContain("varchar");
    expect(table).toContain("Alpha");
    expect(table).toContain("2 rows");
    const pq = (await pondOk(["query", sql, "--format", "parquet"], P())).stdoutBytes;
    expect(Buffer.from(pq.subarray(0, 4)).toString()).toBe("PAR1");
    writeFileSync(h("out.parquet"), pq);
    expect((await pondOk(["cat", `host+table://${h("out.parquet")}`])).stdout).toBe("name\nAlpha\nBravo\n");
  });

  test("a long table result is cut with a note", async () => {
    const out = (await pondOk(["query", "SELECT * FROM '/weather.table'", "--format", "table"], P())).stdout;
    expect(out).toContain("1461 rows (40 shown");
  });

  test("a query leaves no DuckDB temp folder behind, whether it succeeds or fails", async () => {
    // The binary leaves DuckDB's teardown to the process exit, but not its temp folder.
    const tmp = join(ctx.dir, "tmp-for-duckdb");
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const env = { TMPDIR: tmp };
    expect((await pondOk(["query", "SELECT count(*) AS n FROM '/sites.table'"], { ...P(), env })).stdout).toMatch(/^n\n\d+\n$/);
    expect((await pondOk(["cat", "/sites.table", "--sql", "SELECT count(*) AS n FROM source"], { ...P(), env })).stdout).toMatch(/^n\n\d+\n$/);
    expect((await pond(["query", "SELECT nope FROM '/sites.table'"], { ...P(), env })).code).toBe(1);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test("a query error prints DuckDB's message and exits 1", async () => {
    // [SQL, what the message says (case-insensitive)]: an unknown column, a syntax error,
    // no statement, two statements, a pond path that does not exist.
    const cases: [string, string][] = [
      ["SELECT nope FROM '/sites.table'", '"nope"'],
      ["SELEC 1", "syntax"],
      [" -- nothing here ", "empty SQL: give one SELECT query"],
      ["SELECT 1; SELECT 2", "multiple statements"],
      ["SELECT * FROM '/no/such.table'", "/no/such.table"],
    ];
    for (const [sql, says] of cases) {
      const r = await pond(["query", sql], P());
      expect(r.code).toBe(1);
      expect(r.stderr.toLowerCase()).toContain(says.toLowerCase());
    }
  });

  const outside = join(process.env.TMPDIR ?? "/tmp", `pond-sandbox-${process.pid}`);
  for (const [what, sql] of [
    ["read_csv('/etc/passwd')", "SELECT * FROM read_csv('/etc/passwd')"],
    ["COPY … TO", `COPY (SELECT 1) TO '${outside}.csv'`],
    ["ATTACH", `ATTACH '${outside}.db' AS x`],
    ["INSTALL", "INSTALL httpfs"],
    ["LOAD", "LOAD httpfs"],
    ["SET", "SET threads=1"],
    ["reading a pond payload it did not name", "SELECT * FROM read_parquet('" + "PLACEHOLDER" + "')"],
  ] as const) {
    test(`the sandbox refuses ${what}`, async () => {
      let q: string = sql;
      if (sql.includes("PLACEHOLDER")) {
        const d = JSON.parse((await pondOk(["describe", "/sites.table", "--format", "json"], P())).stdout);
        q = `SELECT * FROM '/weather.table', read_parquet('${join(ctx.pondDir, "data", "_large_files", `sha256=${d.versions[0].sha256}`)}')`;
      }
      const r = await pond(["query", q], P());
      expect(r.code).toBe(1);
      expect(r.stderr.length).toBeGreaterThan(10);
      expect(r.stdout).toBe("");
      expect(existsSync(`${outside}.csv`)).toBe(false);
      expect(existsSync(`${outside}.db`)).toBe(false);
    });
  }
});

describe("host mode needs no pond", () => {
  test("host+csv with --sql", async () => {
    const r = await pondOk([
      "cat",
      `host+csv://${join(FIXTURES, "timeseries/vega-datasets/seattle-weather.csv")}`,
      "--sql",
      "SELECT count(*) AS n FROM source",
    ]);
    expect(r.stdout).toBe("n\n1461\n");
  });
  test("host+delta simple_table: 3 rows with id 5, 7, 9; version 0 by time travel", async () => {
    const dir = join(FIXTURES, "delta/delta-rs/simple_table");
    expect((await pondOk(["cat", `host+delta://${dir}`, "--sql", "SELECT id FROM source ORDER BY id"])).stdout).toBe("id\n5\n7\n9\n");
    expect((await pondOk(["cat", `host+delta://${dir}`, "--as-of", "0", "--sql", "SELECT count(*) AS n FROM source"])).stdout).toBe("n\n5\n");
  });
  test("host+delta --as-of: a bad value or a missing version is named (not read as the newest); host+csv refuses --as-of", async () => {
    const dir = join(FIXTURES, "delta/delta-rs/simple_table");
    const bad = await pond(["cat", `host+delta://${dir}`, "--as-of", "yesterday"]);
    expect([bad.code, bad.stdout]).toEqual([2, ""]);
    expect(bad.stderr).toContain('--as-of "yesterday" is neither a transaction sequence');
    const missing = await pond(["cat", `host+delta://${dir}`, "--as-of", "99"]);
    expect([missing.code, missing.stdout]).toEqual([1, ""]);
    expect(missing.stderr).toContain("version 99 does not exist (the latest is 4)");
    const csv = await pond(["cat", `host+csv://${join(FIXTURES, "timeseries/vega-datasets/seattle-weather.csv")}`, "--as-of", "0"]);
    expect([csv.code, csv.stdout]).toEqual([2, ""]);
    expect(csv.stderr).toContain("is a single CSV file with none");
  });
  test("host+delta simple_table_with_checkpoint: 11 rows", async () => {
    const r = await pondOk([
      "cat",
      `host+delta://${join(FIXTURES, "delta/delta-rs/simple_table_with_checkpoint")}`,
      "--sql",
      "SELECT count(*) AS n FROM source",
    ]);
    expect(r.stdout).toBe("n\n11\n");
  });
  test("host+delta delta-0.8.0-partitioned: 7 rows with string partitions year/month/day", async () => {
    const r = await pondOk([
      "cat",
      `host+delta://${join(FIXTURES, "delta/delta-rs/delta-0.8.0-partitioned")}`,
      "--sql",
      "SELECT count(*) AS n, count(DISTINCT year) AS years, typeof(any_value(month)) AS t FROM source",
    ]);
    expect(r.stdout).toBe("n,years,t\n7,2,VARCHAR\n");
  });
  test("host+table of a fixture", async () => {
    const r = await pondOk([
      "cat",
      `host+table://${join(FIXTURES, "parquet/parquet-testing/data/alltypes_plain.parquet")}`,
      "--sql",
      "SELECT count(*) AS n FROM source",
    ]);
    expect(r.stdout).toBe("n\n8\n");
  });
});
