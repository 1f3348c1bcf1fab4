// pond site build and pond chart from the CLI: the files a site holds and that its data is
// the pond's rows; /etc/site.yaml chooses series, columns, units and groups, is checked on
// copy and on use; a folder that is not a site is never overwritten, a site is replaced
// whole; pond chart writes SVG and PNG of a series over a time range. (The pages in a real
// browser: site-browser.e2e.test.ts.)
// Reads the shared FIXTURES (vega-datasets), so npm test leaves it out when they are missing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { decodePng, pixelVariety } from "./support/png-pixels.ts";
import { latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";
import { fillSitePond, STATION_COLUMNS } from "./support/site-pond.ts";

const SEED = Number(process.env.POND_SITE_SEED ?? Math.floor(Math.random() * 1e6));
/** Three days of minutely rows: more than 2,000, so the page opens at the 1h reduction. */
const MINUTES = 3 * 1440;

let ctx: Awaited<ReturnType<typeof newPond>>;
const P = () => ({ pond: ctx.pondDir });

beforeAll(async () => {
  console.error(`site.e2e: seed ${SEED} (POND_SITE_SEED=${SEED} replays it)`);
  ctx = await newPond();
  await fillSitePond(ctx.pondDir, ctx.dir, { minutes: MINUTES, seed: SEED });
}, 120_000);
afterAll(() => ctx.cleanup());

function files(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name), base) : [join(dir, e.name).slice(base.length + 1)]))
    .sort();
}

/** A chunk file's payload: times (ms) and fields. */
function readChunk(path: string): { key: string; t: number[]; f: (number | null)[][] } {
  const m = /^pondChunk\(("[^"]*"),(.*)\);\n$/s.exec(readFileSync(path, "utf8"));
  if (!m) throw new Error(`${path} is not a chunk script`);
  const p = JSON.parse(m[2]!) as { u: number; t: number[]; f: (number | null)[][] };
  let acc = 0;
  const t = p.t.map((d, i) => {
    acc = i === 0 ? d : acc + d;
    return acc * p.u;
  });
  return { key: JSON.parse(m[1]!), t, f: p.f };
}

function siteConfig(name: string, text: string): string {
  const f = join(ctx.dir, name);
  writeFileSync(f, text);
  return `host://${f}`;
}

describe("pond site build", () => {
  test("writes an index, a page per series, the chart library and chunked data equal to the pond's rows", async () => {
    const out = join(ctx.dir, "site1");
    const r = await pondOk(["site", "build", `host://${out}`, "--format", "json"], P());
    const report = JSON.parse(r.stdout) as {
      series: { path: string; page: string; rows: number; defaultLevel: string; defaultBytes: number; levels: { id: string; rows: number }[] }[];
    };
    expect(report.series.map((s) => [s.path, s.rows, s.defaultLevel])).toEqual([
      ["/st/station.series", MINUTES, "1h"],
      ["/vega/co2.series", 741, "raw"],
      ["/vega/hourly-normals.series", 8759, "1d"],
      ["/vega/seattle-weather.series", 1461, "raw"],
    ]);
    expect(report.series[0]!.levels.map((l) => [l.id, l.rows])).toEqual([
      ["raw", MINUTES],
      ["1h", 72],
      ["6h", 12],
      ["1d", 3],
      ["7d", 1],
    ]);
    const all = files(out);
    for (const f of ["index.html", "assets/uPlot.iife.min.js", "assets/uPlot.min.css", "assets/pond-site.js", ".pond-site.json", "series/st.station.html"]) {
      expect(all).toContain(f);
    }
    // The library is npm's file, byte for byte (embedded in the binary).
    const npm = resolve(import.meta.dir, "../node_modules/uplot/dist/uPlot.iife.min.js");
    expect(readFileSync(join(out, "assets/uPlot.iife.min.js"), "utf8")).toBe(readFileSync(npm, "utf8"));
    expect(all.filter((f) => f.startsWith("data/st.station/raw-"))).toEqual([
      "data/st.station/raw-0.js",
      "data/st.station/raw-1.js",
      "data/st.station/raw-2.js",
    ]);
    // No page refers to anything outside the folder.
    for (const f of all.filter((f) => f.endsWith(".html"))) expect(readFileSync(join(out, f), "utf8")).not.toMatch(/(src|href)="(https?:)?\/\//);
    // The raw chunks hold the pond's rows (values to 7 significant digits).
    const rows = (await pondOk(["cat", "/st/station.series", "--format", "jsonl"], P())).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, string | number>);
    const chunks = [0, 1, 2].map((i) => readChunk(join(out, `data/st.station/raw-${i}.js`)));
    expect(chunks.map((c) => c.key)).toEqual(["st.station/raw/0", "st.station/raw/1", "st.station/raw/2"]);
    const t = chunks.flatMap((c) => c.t);
    expect(t).toEqual(rows.map((r) => Date.parse(String(r.timestamp).replace(" ", "T") + (String(r.timestamp).endsWith("Z") ? "" : "Z"))));
    STATION_COLUMNS.forEach((col, i) => {
      const got = chunks.flatMap((c) => c.f[i]!);
      expect(got).toEqual(rows.map((r) => Number(Number(r[col]).toPrecision(7))));
    });
    // The 1h level holds the reduction's avg, min and max of each column.
    const hourly = readChunk(join(out, "data/st.station/1h-0.js"));
    expect(hourly.t.length).toBe(72);
    expect(hourly.f.length).toBe(STATION_COLUMNS.length * 3);
    const firstHourTemp = rows.slice(0, 60).map((r) => Number(r.temp));
    expect(hourly.f[1]![0]).toBeCloseTo(Math.min(...firstHourTemp), 4);
    expect(hourly.f[2]![0]).toBeCloseTo(Math.max(...firstHourTemp), 4);
    expect(hourly.f[0]![0]).toBeCloseTo(firstHourTemp.reduce((a, b) => a + b, 0) / 60, 4);
  });

  test("/etc/site.yaml chooses the title, series, columns, units and groups", async () => {
    await pondOk(
      [
        "copy",
        siteConfig(
          "site.yaml",
          `title: Lake station
units: { temp: "°C" }
groups: [Lake, Weather]
series:
  - path: /st/station.series
    title: Station buoy
    group: Lake
    columns: [temp, do]
    units: { do: mg/L }
  - path: /vega/seattle-*.series
    group: Weather
`,
        ),
        "/etc/site.yaml",
      ],
      P(),
    );
    const out = join(ctx.dir, "site2");
    await pondOk(["site", "build", `host://${out}`], P());
    const index = readFileSync(join(out, "index.html"), "utf8");
    expect(index).toContain("<h1>Lake station</h1>");
    expect([...index.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1])).toEqual(["Lake", "Weather"]);
    expect([...index.matchAll(/data-path="([^"]*)"/g)].map((m) => m[1])).toEqual(["/st/station.series", "/vega/seattle-weather.series"]);
    expect(index).toContain("Station buoy");
    const page = readFileSync(join(out, "series/st.station.html"), "utf8");
    const manifest = JSON.parse(/window\.POND_SERIES = (.*);<\/script>/.exec(page)![1]!);
    expect(manifest.charts).toEqual([
      { column: "temp", unit: "°C" },
      { column: "do", unit: "mg/L" },
    ]);
    expect(manifest.levels.map((l: { id: string }) => l.id)).toEqual(["raw", "1h", "6h", "1d", "7d"]);
    expect(readChunk(join(out, "data/st.station/raw-0.js")).f.length).toBe(2);
    expect(files(out).some((f) => f.includes("co2"))).toBe(false);
  });

  test("a bad /etc/site.yaml is refused on copy, naming the file, the key and what is allowed; the pond is unchanged", async () => {
    const before = await latestLogVersion(ctx.pondDir);
    const cases: [string, RegExp][] = [
      ["titel: x\n", /Site config "\/etc\/site\.yaml", key "titel": unknown key; allowed here: title, units, groups, series/],
      ["series:\n  - path: /st/station.series\n    columns: temp\n", /key "series\[0\]\.columns": expected a non-empty list of names/],
      ["groups: [A]\nseries:\n  - path: /st/station.series\n    group: B\n", /key "series\[0\]\.group": "B" is not one of groups: A/],
    ];
    for (const [text, re] of cases) {
      const r = await pond(["copy", siteConfig("bad.yaml", text), "/etc/site.yaml"], P());
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(re) });
    }
    expect(await latestLogVersion(ctx.pondDir)).toBe(before);
  });

  test("a config that names a column the series lacks fails the build with the columns allowed, and writes nothing", async () => {
    await pondOk(["copy", siteConfig("site3.yaml", "series:\n  - path: /st/station.series\n    columns: [temp, salinity]\n"), "/etc/site.yaml"], P());
    const out = join(ctx.dir, "site3");
    const r = await pond(["site", "build", `host://${out}`], P());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'Site config "/etc/site.yaml", key "series[0].columns": "/st/station.series" has no numeric column "salinity"; allowed: temp, do, ph, cond, level',
    );
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(ctx.dir).filter((n) => n.includes("pond-site-tmp"))).toEqual([]);
    const missing = await pond(["copy", siteConfig("site4.yaml", "series:\n  - path: /nope/*.series\n"), "/etc/site.yaml"], P());
    expect(missing.code).toBe(0); // valid YAML; what it names is checked on use
    const r2 = await pond(["site", "build", `host://${out}`], P());
    expect(r2.stderr).toContain('key "series[0].path": "/nope/*.series" matches no series in the pond');
    await pondOk(["rm", "/etc/site.yaml"], P());
  });

  test("a folder that is not a site is refused untouched; a site built before is replaced whole", async () => {
    const mine = join(ctx.dir, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "notes.txt"), "keep me");
    const r = await pond(["site", "build", `host://${mine}`], P());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not empty and is not a site pond built");
    expect(files(mine)).toEqual(["notes.txt"]);
    const out = join(ctx.dir, "site5");
    await pondOk(["copy", siteConfig("site5.yaml", "series:\n  - path: /vega/co2.series\n"), "/etc/site.yaml"], P());
    await pondOk(["site", "build", `host://${out}`], P());
    expect(files(out).filter((f) => f.startsWith("series/"))).toEqual(["series/vega.co2.html"]);
    writeFileSync(join(out, "stray.txt"), "x");
    await pondOk(["copy", siteConfig("site6.yaml", "series:\n  - path: /vega/seattle-weather.series\n"), "/etc/site.yaml"], P());
    await pondOk(["site", "build", `host://${out}`], P());
    const after = files(out);
    expect(after.filter((f) => f.startsWith("series/"))).toEqual(["series/vega.seattle-weather.html"]);
    expect(after.some((f) => f.includes("co2") || f === "stray.txt")).toBe(false);
    expect(readdirSync(ctx.dir).filter((n) => n.includes("pond-site-tmp"))).toEqual([]);
    await pondOk(["rm", "/etc/site.yaml"], P());
  });
});

describe("pond chart", () => {
  test("draws the chosen columns over a time range to SVG, as many rows as the range holds", async () => {
    const svgPath = join(ctx.dir, "charts", "day.svg");
    const start = "2025-01-02T00:00:00Z";
    const end = "2025-01-02T12:00:00Z";
    const r = await pondOk(
      ["chart", "/st/station.series", "--columns", "temp,do", "--time-start", start, "--time-end", end, "--out", `host://${svgPath}`],
      P(),
    );
    const svg = readFileSync(svgPath, "utf8");
    expect(svg).toStartWith("<svg");
    expect([...svg.matchAll(/<path d="/g)].length).toBe(2);
    expect(svg).toContain(">720 rows · 2025-01-02T00:00:00Z to 2025-01-02T12:00:00Z (UTC)<");
    expect(r.stderr).toContain("720 rows drawn as 1440 points");
    const count = await pondOk(
      ["query", `SELECT count(*) AS n FROM '/st/station.series' WHERE timestamp >= '${start}' AND timestamp < '${end}'`, "--format", "csv"],
      P(),
    );
    expect(count.stdout.trim().split("\n")[1]).toBe("720");
  });

  test("draws a PNG that is not blank", async () => {
    const pngPath = join(ctx.dir, "weather.png");
    await pondOk(["chart", "/vega/seattle-weather.series", "--out", `host://${pngPath}`, "--width", "700"], P());
    const px = decodePng(new Uint8Array(readFileSync(pngPath)));
    expect(px.width).toBe(700);
    const v = pixelVariety(px);
    expect(v.colours).toBeGreaterThan(50);
    expect(v.nonBackground).toBeGreaterThan(0.03);
  });

  test("refuses a bad output name, a column the series lacks, and a file that is not a series", async () => {
    const bad = await pond(["chart", "/st/station.series", "--out", `host://${join(ctx.dir, "x.txt")}`], P());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("must be a host file ending in .svg or .png");
    const col = await pond(["chart", "/st/station.series", "--columns", "temp,salinity", "--out", `host://${join(ctx.dir, "x.svg")}`], P());
    expect(col.code).toBe(1);
    expect(col.stderr).toContain('"/st/station.series" has no numeric column "salinity"');
    expect(col.stderr).toContain("temp, do, ph, cond, level");
    const notSeries = await pond(["chart", "/etc/reduce/station.yaml", "--out", `host://${join(ctx.dir, "x.svg")}`], P());
    expect(notSeries.code).toBe(1);
    expect(notSeries.stderr).toContain("pond chart draws a series");
    expect(existsSync(join(ctx.dir, "x.svg"))).toBe(false);
    const noOut = await pond(["chart", "/st/station.series"], P());
    expect(noOut.code).toBe(2);
  });
});
