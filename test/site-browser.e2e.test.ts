// `pond site build` checked in a real browser: headless Chromium (Debian's package, which
// .ci/run installs) driven by puppeteer-core. A pond of vega-datasets series plus a
// generated year of minutely readings with reductions; every page opened from a file://
// URL and from a static server on 127.0.0.1; no console error, no request leaves the
// machine, the charts have the expected series and points, zooming loads finer levels,
// and screenshots are not blank. When no browser is installed the tests say so loudly
// and, in CI (CI=true), fail.
// Reads the shared FIXTURES (vega-datasets), so npm test leaves it out when they are missing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { findChromium, launchChromium, serveFolder } from "./support/chromium.ts";
import { decodePng, pixelVariety } from "./support/png-pixels.ts";
import { newPond, pondOk } from "./support/pond-cli.ts";
import { fillSitePond, STATION_START } from "./support/site-pond.ts";

const CHROMIUM = findChromium();
const SEED = Number(process.env.POND_SITE_SEED ?? Math.floor(Math.random() * 1e6));
const MINUTES = 525_600;

if (!CHROMIUM) {
  const msg =
    "\n*** test/site-browser.e2e.test.ts did NOT run: no Chromium found (chromium-headless-shell or chromium).\n" +
    "*** Install it with `apt-get install chromium-headless-shell` (.ci/run does), or set POND_CHROMIUM=/path/to/chrome.\n";
  console.error(msg);
}

afterAll(() => {
  // Said again at the end, where a reader of a long run looks.
  if (!CHROMIUM) console.error("\n*** test/site-browser.e2e.test.ts did NOT run: no Chromium found (see the message at its start).\n");
});

test("a browser is installed for the site tests (required in CI)", () => {
  if (process.env.CI === "true") expect(CHROMIUM).toBeDefined();
});

/** The pages and what each must show: charted columns, series per chart (with x), points at the default view. */
const PAGES = [
  { page: "series/st.station.html", charts: 5, series: 4, level: "6h", points: 1460 },
  { page: "series/vega.seattle-weather.html", charts: 4, series: 2, level: "raw", points: 1461 },
  // No reductions and 8,759 rows: site build computes 1d buckets (avg with a min–max band) to open with.
  { page: "series/vega.hourly-normals.html", charts: 3, series: 4, level: "1d", points: 365 },
  { page: "series/vega.co2.html", charts: 2, series: 2, level: "raw", points: 741 },
] as const;

describe.skipIf(!CHROMIUM)("site in headless Chromium", () => {
  let env: Awaited<ReturnType<typeof newPond>>;
  let out: string;
  let shots: string;
  let browser: Browser;
  let server: ReturnType<typeof serveFolder>;

  beforeAll(async () => {
    console.error(`site-browser: seed ${SEED} (POND_SITE_SEED=${SEED} replays it)`);
    env = await newPond();
    await fillSitePond(env.pondDir, env.dir, { minutes: MINUTES, seed: SEED });
    out = join(env.dir, "site");
    await pondOk(["site", "build", `host://${out}`], { pond: env.pondDir });
    shots = process.env.POND_SITE_SCREENSHOTS ?? join(env.dir, "shots");
    mkdirSync(shots, { recursive: true });
    browser = await launchChromium(CHROMIUM!);
    server = serveFolder(out);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    server?.stop();
    env?.cleanup();
  });

  /** Opens a page, recording console errors, failed requests and every URL it asked for. */
  async function open(url: string, timezone?: string): Promise<{ page: Page; problems: string[]; requests: string[] }> {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    if (timezone) await page.emulateTimezone(timezone);
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warn") problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: "load" });
    return { page, problems, requests };
  }

  async function shotIsNotBlank(page: Page, name: string): Promise<void> {
    const png = await page.screenshot({ path: join(shots, name) as `${string}.png` });
    const v = pixelVariety(decodePng(png));
    expect({ name, many: v.colours > 50, drawn: v.nonBackground > 0.03 }).toEqual({ name, many: true, drawn: true });
  }

  const bases = () => [
    ["file", `file://${out}`],
    ["http", server.url],
  ];

  test("the index lists every series with its rows, over file:// and http://", async () => {
    for (const [kind, base] of bases()) {
      const { page, problems, requests } = await open(`${base}/index.html`);
      const rows = await page.$$eval("tbody tr", (trs) => trs.map((tr) => [tr.getAttribute("data-path"), tr.children[2]!.textContent]));
      expect(rows.sort()).toEqual([
        ["/st/station.series", "525,600"],
        ["/vega/co2.series", "741"],
        ["/vega/hourly-normals.series", "8,759"],
        ["/vega/seattle-weather.series", "1,461"],
      ]);
      const links = await page.$$eval("tbody a", (as) => as.map((a) => a.getAttribute("href")));
      expect(links.sort()).toEqual(PAGES.map((p) => p.page).sort());
      await shotIsNotBlank(page, `index-${kind}.png`);
      expect(problems).toEqual([]);
      expect(requests.filter((u) => !u.startsWith(base!))).toEqual([]);
      await page.close();
    }
  }, 60_000);

  test("every series page draws its charts with the expected series and points, over file:// and http://", async () => {
    for (const [kind, base] of bases()) {
      for (const p of PAGES) {
        const { page, problems, requests } = await open(`${base}/${p.page}`);
        await page.waitForFunction("window.pondSite && window.pondSite.ready", { timeout: 15_000 });
        const s = (await page.evaluate(
          "({level: pondSite.level, charts: pondSite.charts.map(u => ({series: u.series.length, points: u.data[0].length, values: u.data[1].filter(v => v != null).length}))})",
        )) as { level: string; charts: { series: number; points: number; values: number }[] };
        expect({ page: p.page, level: s.level, charts: s.charts.length }).toEqual({ page: p.page, level: p.level, charts: p.charts });
        for (const c of s.charts) {
          expect({ page: p.page, series: c.series, points: c.points }).toEqual({ page: p.page, series: p.series, points: p.points });
          expect(c.values).toBeGreaterThan(p.points * 0.9);
        }
        await shotIsNotBlank(page, `${p.page.replace(/\W/g, "_")}-${kind}.png`);
        expect(problems).toEqual([]);
        expect(requests.filter((u) => !u.startsWith(base!))).toEqual([]);
        await page.close();
      }
    }
  }, 120_000);

  test("zooming with the mouse loads finer levels, down to the raw minutely rows", async () => {
    for (const [kind, base] of bases()) {
      const { page, problems } = await open(`${base}/series/st.station.html`);
      await page.waitForFunction("window.pondSite && window.pondSite.ready", { timeout: 15_000 });
      const state = () =>
        page.evaluate(
          "({level: pondSite.level, loads: pondSite.loads, range: pondSite.range, x: [pondSite.charts[0].scales.x.min, pondSite.charts[0].scales.x.max], t: Array.from(pondSite.charts[0].data[0]), n: pondSite.charts.map(u => u.data[0].length)})",
        ) as Promise<{ level: string; loads: number; range: [number, number]; x: [number, number]; t: number[]; n: number[] }>;
      const before = await state();
      expect(before.level).toBe("6h");
      // Drag across 5% of the first chart's plot: about 18 days, so 1h (≈440 points) is the finest level within 2,000.
      const over = (await page.$(".chart .u-over"))!;
      const box = (await over.boundingBox())!;
      const y = box.y + box.height / 2;
      await page.mouse.move(box.x + box.width * 0.4, y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.42, y, { steps: 5 });
      await page.mouse.move(box.x + box.width * 0.45, y, { steps: 5 });
      await page.mouse.up();
      await page.waitForFunction("pondSite.level === '1h'", { timeout: 10_000 });
      const hourly = await state();
      const days = (hourly.range[1] - hourly.range[0]) / 86400;
      expect(days).toBeGreaterThan(10);
      expect(days).toBeLessThan(30);
      // Every chart shows the same range, at most ~2,000 points of it in view.
      const inView = hourly.t.filter((t) => t >= hourly.range[0] && t <= hourly.range[1]).length;
      expect(inView).toBeGreaterThan(200);
      expect(inView).toBeLessThanOrEqual(2001);
      expect(new Set(hourly.n).size).toBe(1);
      expect(hourly.t[1]! - hourly.t[0]!).toBe(3600);
      // The mouse wheel zooms in further, until the raw minutely rows are loaded.
      for (let i = 0; i < 30 && (await state()).level !== "raw"; i++) {
        await page.mouse.move(box.x + box.width / 2, y);
        await page.mouse.wheel({ deltaY: -200 });
        await Bun.sleep(120);
      }
      await page.waitForFunction("pondSite.level === 'raw'", { timeout: 10_000 });
      const raw = await state();
      expect(raw.loads).toBeGreaterThan(hourly.loads);
      const rawInView = raw.t.filter((t) => t >= raw.range[0] && t <= raw.range[1]);
      expect(rawInView.length).toBeGreaterThan(100);
      expect(rawInView.length).toBeLessThanOrEqual(2001);
      expect(rawInView.every((t, i) => i === 0 || t - rawInView[i - 1]! === 60)).toBe(true);
      expect(raw.t[0]! >= STATION_START / 1000).toBe(true);
      await shotIsNotBlank(page, `station-raw-${kind}.png`);
      // The "All" button goes back to the whole year at 6h.
      await page.click("#zoom-all");
      await page.waitForFunction("pondSite.level === '6h'", { timeout: 10_000 });
      expect(problems).toEqual([]);
      await page.close();
    }
  }, 120_000);

  test("a series without reductions opens at buckets site build computed and zooms to its raw rows", async () => {
    const { page, problems } = await open(`file://${out}/series/vega.hourly-normals.html`);
    await page.waitForFunction("window.pondSite && window.pondSite.ready", { timeout: 15_000 });
    expect(await page.evaluate("pondSite.level")).toBe("1d");
    await page.evaluate("pondSite.setRange(Date.UTC(2010, 5, 1) / 1000, Date.UTC(2010, 5, 4) / 1000)");
    await page.waitForFunction("pondSite.level === 'raw'", { timeout: 10_000 });
    const t = (await page.evaluate("Array.from(pondSite.charts[0].data[0])")) as number[];
    const inView = t.filter((x) => x >= Date.UTC(2010, 5, 1) / 1000 && x <= Date.UTC(2010, 5, 4) / 1000);
    expect(inView.length).toBe(73); // hourly, both ends included
    expect(await page.$eval("#status", (e) => e.textContent)).toContain("raw rows · 73 points in view");
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  test("hovering a chart shows the values under the cursor in its legend, times in UTC whatever the viewer's zone", async () => {
    const { page, problems } = await open(`file://${out}/series/st.station.html`, "America/Chicago");
    await page.waitForFunction("window.pondSite && window.pondSite.ready", { timeout: 15_000 });
    expect(await page.evaluate("new Date(Date.UTC(2025, 5, 1)).getHours()")).toBe(19); // the zone took effect
    const box = (await (await page.$(".chart .u-over"))!.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await Bun.sleep(100);
    const legend = await page.$$eval(".chart:first-child .u-legend .u-value", (els) => els.map((e) => e.textContent ?? ""));
    const [t, avg, min, max] = (await page.evaluate(
      "(() => { const u = pondSite.charts[0], i = u.cursor.idx; return [u.data[0][i], u.data[1][i], u.data[2][i], u.data[3][i]]; })()",
    )) as number[];
    // Time, then temp (avg), min and max of the point under the cursor.
    const iso = new Date(t! * 1000).toISOString();
    const h = Number(iso.slice(11, 13));
    expect(legend[0]).toBe(`${iso.slice(0, 10)} ${h % 12 || 12}:${iso.slice(14, 16)}${h < 12 ? "am" : "pm"}`);
    expect(legend.slice(1).map(Number)).toEqual([avg, min, max].map((v) => Number(v!.toPrecision(6))));
    expect(min!).toBeLessThanOrEqual(avg!);
    expect(avg!).toBeLessThanOrEqual(max!);
    expect(problems).toEqual([]);
    writeFileSync(join(shots, "legend.txt"), legend.join("\n"));
    await page.close();
  }, 60_000);
});
