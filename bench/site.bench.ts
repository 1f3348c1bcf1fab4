// Issue 16: a series page's first chart on screen in headless Chromium, from local files
// (file://), for a year of minutely readings (525,600 rows, 5 columns, reductions at
// 1h/6h/1d/7d): under 1 s; the data the page loads for its default view under 1 MB.
// Baseline, measured in the same run (interleaved medians, a fresh browser context each
// time so nothing is cached): a hand-written page in the same folder that loads the same
// uPlot and draws the same five charts (the first, its frame, then the others, as the
// site's page does) from data inline in the page: the floor of browser + chart library.
// Time: from navigation start to the frame after the first chart was drawn (the page's
// performance.now()). Run: node_modules/.bin/bun bench/site.bench.ts [--minutes 525600] [--rounds 7]
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findChromium, launchChromium } from "../test/support/chromium.ts";
import { fillSitePond, STATION_COLUMNS } from "../test/support/site-pond.ts";
import { interleaved, POND_BIN, report, run, type Run } from "./lib.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const MINUTES = arg("--minutes", 525_600);
const ROUNDS = arg("--rounds", 7);
const chromium = findChromium();
if (!chromium) {
  console.error("no Chromium: install chromium-headless-shell (apt-get) or set POND_CHROMIUM");
  process.exit(1);
}

const root = mkdtempSync(join(tmpdir(), "pond-bench-site-"));
try {
  const pondDir = join(root, "pond");
  await run([POND_BIN, "init", "--pond", pondDir]);
  const t0 = performance.now();
  await fillSitePond(pondDir, root, { minutes: MINUTES, seed: 1, vega: false });
  console.log(`pond of ${MINUTES} minutely rows and 4 reductions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const out = join(root, "site");
  const build = await run([POND_BIN, "site", "build", `host://${out}`, "--pond", pondDir, "--format", "json"], { stdout: join(root, "report.json") });
  const rep = JSON.parse(await Bun.file(join(root, "report.json")).text()) as {
    bytes: number;
    files: number;
    series: { defaultLevel: string; defaultBytes: number; levels: { id: string; rows: number; bytes: number }[] }[];
  };
  const s = rep.series[0]!;
  console.log(`site build: ${(build.ms / 1000).toFixed(1)} s, ${rep.files} files, ${(rep.bytes / 1e6).toFixed(1)} MB`);
  for (const l of s.levels) console.log(`  level ${l.id.padEnd(4)} ${String(l.rows).padStart(7)} rows  ${(l.bytes / 1024).toFixed(0).padStart(6)} KiB`);

  // The baseline page: same uPlot, same five charts, the default view's points inline.
  const points = s.levels.find((l) => l.id === s.defaultLevel)!.rows;
  writeFileSync(
    join(out, "series", "baseline.html"),
    `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><link rel="stylesheet" href="../assets/uPlot.min.css">
<script src="../assets/uPlot.iife.min.js"></script></head><body><div id="c"></div><script>
const n = ${points}, t = new Float64Array(n), cols = ${JSON.stringify(STATION_COLUMNS)};
for (let i = 0; i < n; i++) t[i] = 1735689600 + i * 21600;
const draw = (c, k) => {
  const v = Array.from({length: n}, (_, i) => Math.sin(i / 50 + k));
  const el = document.createElement("div"); document.getElementById("c").appendChild(el);
  new uPlot({width: 1000, height: 260, title: c, scales: {x: {time: true}}, series: [{}, {label: c, stroke: "#1f77b4"}, {label: "min"}, {label: "max"}]}, [t, v, v, v], el);
};
// Like the site's page: the first chart, its frame, then the others.
draw(cols[0], 0);
requestAnimationFrame(() => { window.firstChartMs = performance.now(); setTimeout(() => cols.slice(1).forEach((c, k) => draw(c, k + 1)), 0); });
window.ready = true;
</script></body></html>`,
  );

  const browser = await launchChromium(chromium);
  const pageBytes: number[] = [];
  /** Opens `url` in a fresh context; its time is the page's `value` once `done` holds. */
  const open = async (url: string, done: string, value: string): Promise<Run> => {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    const urls: string[] = [];
    page.on("request", (r) => urls.push(r.url()));
    await page.goto(url);
    await page.waitForFunction(done, { timeout: 30_000 });
    const ms = Number(await page.evaluate(value));
    if (!Number.isFinite(ms)) throw new Error(`${url}: ${value} is ${ms}`);
    if (url.includes("st.station")) pageBytes.push(urls.reduce((n, u) => n + statSync(decodeURIComponent(new URL(u).pathname)).size, 0));
    await ctx.close();
    return { ms, cpuMs: Number.NaN, maxRssMiB: Number.NaN, code: 0 };
  };
  const r = await interleaved(ROUNDS, {
    baseline: () => open(`file://${out}/series/baseline.html`, "window.firstChartMs", "window.firstChartMs"),
    site: () => open(`file://${out}/series/st.station.html`, "window.pondSite && window.pondSite.ready", "window.pondSite.firstChartMs"),
  });
  await browser.close();
  console.log(`baseline (uPlot, same charts, data inline): ${r.baseline.ms.toFixed(0)} ms to the first chart`);
  console.log(
    `site page (manifest, chunk scripts, ${s.defaultLevel} level): ${r.site.ms.toFixed(0)} ms (${(r.site.ms / r.baseline.ms).toFixed(2)}x the baseline)`,
  );
  console.log(`everything the page loaded (html, uPlot, script, data): ${(pageBytes[0]! / 1024).toFixed(0)} KiB`);
  const ok = [
    report("first chart on screen, a year of minutely data", r.site.ms, 1000, "ms"),
    report("data of the default view", s.defaultBytes / 1024, 1024, "KiB"),
  ];
  if (ok.includes(false)) process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
