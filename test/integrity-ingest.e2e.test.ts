// Nothing goes in that cannot come out intact: CSV values are never turned into NULL
// and headers never silently dropped; Parquet is read whole before it is accepted; a
// series keeps its time column and column types honest; host sources that are not
// regular files are refused. Every refusal leaves the pond as it was.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
let host: string;
const P = () => ({ pond: ctx.pondDir });

beforeAll(async () => {
  ctx = await newPond();
  host = join(ctx.dir, "host");
  mkdirSync(host);
});
afterAll(() => ctx.cleanup());

/** Runs a command that must be refused: exit `code`, stderr containing `says`, and no new commit. */
async function refused(args: string[], code: number, ...says: string[]): Promise<string> {
  const before = await latestLogVersion(ctx.pondDir);
  const r = await pond(args, P());
  expect(r.code).toBe(code);
  for (const s of says) expect(r.stderr).toContain(s);
  expect(await latestLogVersion(ctx.pondDir)).toBe(before);
  return r.stderr;
}

/**
 * RFC 4180 records of `text` with `delim`, raw field texts kept (quotes included), so a
 * quoted empty field `""` counts as present. Lines starting with '#' outside quotes are
 * comments; a BOM is dropped; `\"` inside quotes is an escaped quote too.
 */
function records(text: string, delim: string): string[][] {
  text = text.replace(/^\uFEFF/, "");
  const out: string[][] = [];
  let rec: string[] = [],
    field = "",
    quoted = false,
    atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      field += ch;
      if (ch === "\\" && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      continue;
    }
    if (atLineStart && ch === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    atLineStart = false;
    if (ch === '"') {
      quoted = true;
      field += ch;
    } else if (ch === delim) {
      rec.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      rec.push(field);
      if (!(rec.length === 1 && rec[0] === "")) out.push(rec);
      rec = [];
      field = "";
      atLineStart = true;
    } else field += ch;
  }
  if (field !== "" || rec.length) {
    rec.push(field);
    out.push(rec);
  }
  return out;
}

function csvFixtures(): string[] {
  const spectrum = join(FIXTURES, "csv-edge/csv-spectrum");
  const duck = join(FIXTURES, "csv-edge/duckdb");
  const ts = join(FIXTURES, "timeseries");
  return [
    ...readdirSync(spectrum)
      .filter((f) => f.endsWith(".csv"))
      .map((f) => join(spectrum, f)),
    ...readdirSync(duck)
      .filter((f) => f.endsWith(".csv"))
      .map((f) => join(duck, f)),
    ...[
      "usgs-dataRetrieval-R/RDB1Example.txt",
      "usgs-dataRetrieval-R/infoTest.csv",
      "twdb-sonde/BAYT_20070323_CDT_YS1772AA_000.csv",
      "vega-datasets/iowa-electricity.csv",
      "vega-datasets/seattle-weather.csv",
      "vega-datasets/seattle-weather-hourly-normals.csv",
      "vega-datasets/co2-concentration.csv",
      "vega-datasets/weather.csv",
      "vega-datasets/unemployment.tsv",
      "vega-datasets/global-temp.csv",
      "ross-poudre-sonde/prospect-Depth_head_6hr.csv",
    ].map((f) => join(ts, f)),
  ];
}

describe("CSV: every non-empty field of a file that imports is a non-null value", () => {
  test("for every CSV fixture: imports with as many non-null values per column as the file has non-empty fields, or is refused with a reason", async () => {
    const files = csvFixtures();
    expect(files.length).toBeGreaterThan(25);
    let imported = 0;
    for (const [i, f] of files.entries()) {
      const t = `/csv/f${i}.table`;
      const r = await pond(["copy", "-p", `host+csv://${f}`, t], P());
      if (r.code !== 0) {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/Cannot (read|tell)/);
        continue;
      }
      imported++;
      const d = JSON.parse((await pondOk(["describe", t, "--format", "json"], P())).stdout);
      const columns: { name: string }[] = d.schema?.columns ?? d.columns;
      expect(Array.isArray(columns)).toBe(true);
      const counts = columns.map((c) => `count(${JSON.stringify(c.name)})::BIGINT`).join(", ");
      const stored = JSON.parse((await pondOk(["query", `SELECT count(*)::BIGINT AS n, [${counts}] AS c FROM '${t}'`, "--format", "json"], P())).stdout)[0];
      const text = readFileSync(f, "utf8");
      const delim = [",", ";", "\t", "|"].find((dl) => records(text, dl).every((rec) => rec.length === columns.length)) ?? ",";
      const recs = records(text, delim);
      const data = recs.length === Number(stored.n) + 1 ? recs.slice(1) : recs;
      expect(data.length).toBe(Number(stored.n));
      const nonEmpty = columns.map((_, j) => data.filter((rec) => (rec[j] ?? "") !== "").length);
      expect({ file: f, counts: stored.c.map(Number) }).toEqual({ file: f, counts: nonEmpty });
    }
    expect(imported).toBeGreaterThan(20);
  });

  test("a value past the sniffer's sample that is not its column's type keeps the column as text: no value becomes NULL", async () => {
    const rows = ["a,b", ...Array.from({ length: 30000 }, (_, i) => `${i},x`), "abc,y"];
    writeFileSync(join(host, "late.csv"), rows.join("\n") + "\n");
    await pondOk(["copy", `host+csv://${join(host, "late.csv")}`, "/late.table"], P());
    const r = JSON.parse(
      (await pondOk(["query", "SELECT typeof(a) AS t, count(a) AS n, count(*) AS all FROM '/late.table' GROUP BY ALL", "--format", "json"], P())).stdout,
    );
    expect(r).toEqual([{ t: "VARCHAR", n: 30001, all: 30001 }]);
  });

  test("a quoted empty field is an empty string, not NULL", async () => {
    writeFileSync(join(host, "q.csv"), 'a,b\n1,""\n2,x\n');
    await pondOk(["copy", `host+csv://${join(host, "q.csv")}`, "/q.table"], P());
    expect(JSON.parse((await pondOk(["query", "SELECT b FROM '/q.table' ORDER BY a", "--format", "json"], P())).stdout)).toEqual([{ b: "" }, { b: "x" }]);
  });

  test("a header above a row that hides it (RDB's type-code row) is kept as the names, never replaced by column0…; --no-header keeps it as data", async () => {
    const rdb = join(FIXTURES, "timeseries/usgs-dataRetrieval-R/RDB1Example.txt");
    await pondOk(["copy", `host+csv://${rdb}`, "/rdb.table"], P());
    const first = (await pondOk(["query", "SELECT * FROM '/rdb.table' LIMIT 1", "--format", "csv"], P())).stdout;
    expect(first).toBe("agency_cd,site_no,datetime,01_00060_00003,01_00060_00003_cd\n5s,15s,20d,14n,10s\n");
    await pondOk(["copy", "--no-header", `host+csv://${rdb}`, "/rdb2.table"], P());
    const asData = (await pondOk(["query", "SELECT * FROM '/rdb2.table' LIMIT 1", "--format", "csv"], P())).stdout;
    expect(asData).toBe("column0,column1,column2,column3,column4\nagency_cd,site_no,datetime,01_00060_00003,01_00060_00003_cd\n");
  });
});

describe("Parquet is read whole before it is accepted", () => {
  test("a file with a good footer and damaged pages is refused; nothing is stored", async () => {
    const good = join(host, "good.parquet");
    // zstd-compressed text pages: damage there cannot decode (damage to plain numbers would
    // only change values, which no reader can see: Parquet has no required checksums).
    const q = await pondOk(["query", "SELECT md5(range::VARCHAR) AS h, range AS a FROM range(50000)", "--format", "parquet"], P());
    writeFileSync(good, q.stdoutBytes);
    for (const at of [1000, 50000]) {
      const bytes = Buffer.from(q.stdoutBytes);
      for (let i = 0; i < 64; i++) bytes[at + i]! ^= 0xff;
      const bad = join(host, `bad-${at}.parquet`);
      writeFileSync(bad, bytes);
      await refused(["copy", `host+table://${bad}`, "/bad.table"], 1, "Cannot read Parquet file", `bad-${at}.parquet`);
      await refused(["copy", `host+series://${bad}`, "/bad.series"], 1, "Cannot read Parquet file");
    }
    await pondOk(["copy", `host+table://${good}`, "/good.table"], P());
  });

  test("every Parquet fixture that imports reads back whole", async () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true }))
        e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith(".parquet") && files.push(join(d, e.name));
    };
    walk(join(FIXTURES, "parquet"));
    expect(files.length).toBeGreaterThan(10);
    for (const [i, f] of files.entries()) {
      const r = await pond(["copy", "-p", `host+table://${f}`, `/pq/p${i}.table`], P());
      if (r.code !== 0) {
        expect(r.code).toBe(1);
        continue;
      }
      const n = await pond(["query", `SELECT count(*) FROM '/pq/p${i}.table'`], P());
      expect({ f, code: n.code }).toEqual({ f, code: 0 });
    }
  });
});

describe("a series keeps its schema honest", () => {
  const csv = (name: string, text: string) => {
    writeFileSync(join(host, name), text);
    return `host+series+csv://${join(host, name)}`;
  };

  test("a changed column type is refused with both types; lossless widening and new columns are fine", async () => {
    await pondOk(["copy", csv("s1.csv", "timestamp,v,n\n2024-01-01T00:00:00Z,1.5,1\n"), "/h.series"], P());
    await refused(["copy", csv("s2.csv", "timestamp,v,n\n2024-01-02T00:00:00Z,abc,2\n"), "/h.series"], 1, `column "v" is VARCHAR`, "stores it as DOUBLE");
    // BIGINT n from a Parquet written with INTEGER: one integer family, allowed.
    await pondOk(["copy", csv("s3.csv", "timestamp,v,n,extra\n2024-01-03T00:00:00Z,2.5,3,x\n"), "/h.series"], P());
    const out = JSON.parse((await pondOk(["query", "SELECT count(*) AS n, count(extra) AS e FROM '/h.series'", "--format", "json"], P())).stdout);
    expect(out).toEqual([{ n: 2, e: 1 }]);
  });

  test("a version without the series' time column, or with it under another name, is refused", async () => {
    await refused(["copy", csv("s4.csv", "time,v,n\n2024-01-04T00:00:00Z,1,1\n"), "/h.series"], 1, `"timestamp"`);
    await refused(["copy", csv("s5.csv", "when,v\nx,1\n"), "/h.series"], 1, "timestamp");
  });

  test("a row with a null timestamp is refused, naming its row", async () => {
    await refused(["copy", csv("s6.csv", "timestamp,v\n2024-01-05T00:00:00Z,1\n,2\n"), "/n.series"], 1, "data row 2", "line 3");
  });

  test("a series whose only time column has another name uses it; several candidates need --timestamp-column and are listed", async () => {
    await pondOk(["copy", `host+series+csv://${join(FIXTURES, "timeseries/vega-datasets/seattle-weather.csv")}`, "/sw.series"], P());
    const d = JSON.parse((await pondOk(["describe", "/sw.series", "--format", "json"], P())).stdout);
    expect(JSON.stringify(d)).toContain('"date"');
    await refused(["copy", csv("two.csv", "start,stop,v\n2024-01-01,2024-01-02,1\n"), "/two.series"], 1, `"start"`, `"stop"`, "--timestamp-column");
    await pondOk(["copy", "--timestamp-column", "stop", csv("two.csv", "start,stop,v\n2024-01-01,2024-01-02,1\n"), "/two.series"], P());
  });
});

describe("host sources that are not regular files", () => {
  test("/dev/zero, a FIFO and a /proc file are refused before reading", async () => {
    const fifo = join(host, "fifo");
    Bun.spawnSync(["mkfifo", fifo]);
    for (const src of ["/dev/zero", fifo, "/proc/self/status"]) {
      await refused(["copy", `host://${src}`, "/x.bin"], 1, src);
    }
  });
});

describe("host names that are not UTF-8", () => {
  test("a folder holding a Latin-1 name is copied: the file is found, stored under an escaped name, byte for byte", async () => {
    const dir = join(ctx.dir, "latin1");
    mkdirSync(dir);
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from(".txt")]), "bytes of a Latin-1 name\n");
    writeFileSync(join(dir, "plain.txt"), "plain\n");
    await pondOk(["copy", `host://${dir}`, "/latin1"], P());
    const listed = (await pondOk(["list", "/latin1/*"], P())).stdout;
    expect(listed).toContain("caf\\xE9.txt");
    expect((await pondOk(["cat", "/latin1/caf\\xE9.txt"], P())).stdout).toBe("bytes of a Latin-1 name\n");
    expect((await pondOk(["cat", "/latin1/plain.txt"], P())).stdout).toBe("plain\n");
  });

  test("two host names that would read the same are refused, and nothing is stored", async () => {
    const dir = join(ctx.dir, "clash");
    mkdirSync(dir);
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/a`), Buffer.from([0xff])]), "1");
    writeFileSync(join(dir, "a\\xFF"), "2");
    await refused(["copy", `host://${dir}`, "/clash"], 1, "both read as", "Rename one of them");
  });
});

test("a socket is refused before reading, naming it", async () => {
  const sock = join(host, "s.sock");
  const server = Bun.listen({ unix: sock, socket: { data() {} } });
  try {
    await refused(["copy", `host://${sock}`, "/s.bin"], 1, sock, "socket");
  } finally {
    server.stop(true);
  }
});
